#include "engine/repair/plan_builder.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/repair/validate.h"
#include "engine/util/bytes.h"

namespace qcow2 {

PlanBuilder::PlanBuilder(const Image& img, std::string what) : img_(img) {
  plan_.what = std::move(what);
  plan_.size_before = plan_.size_after = img.file_size();
}

Result<bool> PlanBuilder::set_bits(uint64_t offset, unsigned width, uint64_t mask, uint64_t value, Role role,
                                   std::string_view code, std::string_view why, Risk risk) {
  if (width == 0 || width > 8) return Status::InvalidArgument(fmt::format("a field of {} bytes", width));
  if (width < 8) mask &= (1ULL << (8 * width)) - 1;
  for (Edit& e : plan_.edits) {
    const uint64_t end = e.offset + e.new_bytes.size();
    if (offset + width <= e.offset || end <= offset) continue;
    if (offset < e.offset || offset + width > end)
      return Status::InvalidArgument(
          fmt::format("the field at 0x{:x} ({} bytes) overlaps the edit at 0x{:x} ({})", offset, width, e.offset, e.code));
    uint8_t* at = e.new_bytes.data() + (offset - e.offset);
    const uint64_t now = load_be(at, width);
    const uint64_t next = (now & ~mask) | (value & mask);
    if (next == now) return false;
    const std::vector<uint8_t> b = be_bytes(next, width);
    std::copy(b.begin(), b.end(), at);
    e.risk = std::max(e.risk, risk);
    if (e.code.find(code) == std::string::npos) e.code += fmt::format(",{}", code);
    current_ = false;
    return true;
  }
  if (offset + width > plan_.size_before)
    return Status::InvalidArgument(fmt::format("the field at 0x{:x} lies past the end of the file", offset));
  std::vector<uint8_t> old(width);
  QCOW2_RETURN_IF_ERROR(img_.file().read(offset, old));
  const uint64_t now = load_be(old.data(), width);
  const uint64_t next = (now & ~mask) | (value & mask);
  if (next == now) return false;
  Edit e;
  e.offset = offset;
  e.old_bytes = std::move(old);
  e.new_bytes = be_bytes(next, width);
  e.role = role;
  e.code = std::string(code);
  e.why = std::string(why);
  e.risk = risk;
  plan_.edits.push_back(std::move(e));
  current_ = false;
  return true;
}

Status PlanBuilder::replace(uint64_t offset, std::vector<uint8_t> bytes, Role role, std::string_view code,
                            std::string_view why, Risk risk, bool user_named) {
  if (bytes.empty()) return Status::InvalidArgument("an edit of no bytes");
  if (offset > plan_.size_before || bytes.size() > plan_.size_before - offset)
    return Status::InvalidArgument(
        fmt::format("{} bytes at 0x{:x} reach past the end of the file ({} bytes)", bytes.size(), offset, plan_.size_before));
  Edit e;
  e.offset = offset;
  e.old_bytes.resize(bytes.size());
  QCOW2_RETURN_IF_ERROR(img_.file().read(offset, e.old_bytes));
  e.new_bytes = std::move(bytes);
  e.role = role;
  e.code = std::string(code);
  e.why = std::string(why);
  e.risk = risk;
  e.user_named = user_named;
  plan_.edits.push_back(std::move(e));
  current_ = false;
  return Status::Ok();
}

uint64_t PlanBuilder::next_append_offset() const {
  const uint64_t cs = img_.geometry().cluster_size;
  return (plan_.size_after + cs - 1) / cs * cs;
}

uint64_t PlanBuilder::append(std::vector<uint8_t> bytes, std::string_view code, std::string_view why, Risk risk) {
  const uint64_t cs = img_.geometry().cluster_size;
  const uint64_t at = next_append_offset();
  bytes.resize((bytes.size() + cs - 1) / cs * cs, 0);
  Edit e;
  e.offset = at;
  e.new_bytes = std::move(bytes);
  e.role = Role::kFree;
  e.code = std::string(code);
  e.why = std::string(why);
  e.risk = risk;
  plan_.size_after = at + e.new_bytes.size();
  plan_.edits.push_back(std::move(e));
  current_ = false;
  return at;
}

Result<const CheckResult*> PlanBuilder::check_planned() {
  planned_check_ = CheckResult();
  planned_.reset();
  QCOW2_ASSIGN_OR_RETURN(planned_check_, check_as_planned(img_, plan_, planned_));
  current_ = true;
  return &planned_check_;
}

Plan PlanBuilder::finish() {
  const uint64_t cs = img_.geometry().cluster_size;
  const auto rank = [&](const Edit& e) { return e.appended() ? 0 : e.offset < cs ? 2 : 1; };
  std::stable_sort(plan_.edits.begin(), plan_.edits.end(), [&](const Edit& a, const Edit& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a.offset < b.offset;
  });
  planned_check_ = CheckResult();
  planned_.reset();
  return std::move(plan_);
}

}  // namespace qcow2
