#include "engine/repair/validate.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/format/extent.h"
#include "engine/io/overlay.h"
#include "engine/repair/role_index.h"

namespace qcow2 {
namespace {

std::string where(const Edit& e) {
  return fmt::format("edit of {} bytes at 0x{:x} ({}, {})", e.new_bytes.size(), e.offset, role_name(e.role), e.code);
}

}  // namespace

Result<CheckResult> check_as_planned(const Image& img, const Plan& plan, std::unique_ptr<Image>& planned) {
  auto overlay = std::make_shared<Overlay>(plan.size_before);
  // The plan outlives the image read through it (the callers keep both): no copy of its bytes.
  for (const Edit& e : plan.edits) overlay->lay(e.offset, e.new_bytes);
  overlay->resize(std::max(plan.size_after, overlay->size()));
  QCOW2_ASSIGN_OR_RETURN(planned, Image::open(img.path(), overlay));
  CheckOptions opts;
  opts.skip_backing = true;  // the layer's own structures are what a plan changes
  opts.max_findings_per_code = plan_findings_per_code(img.file_size());
  return check_image(*planned, opts);
}

Status validate_plan(const Image& img, const CheckResult& check, Plan& plan,
                     const std::vector<Finding>* planned_findings) {
  // An image that cannot be walked has no trustworthy geometry: its header is what can be
  // patched, within the first 512 bytes.
  const uint32_t cluster_bits = img.walkable() ? img.geometry().cluster_bits : 9;
  const uint64_t header_bytes = uint64_t{1} << cluster_bits;
  if (plan.size_before != img.file_size())
    return Status::InvalidArgument(fmt::format("the plan was made for a {}-byte file; it has {} bytes",
                                               plan.size_before, img.file_size()));
  if (plan.size_after < plan.size_before)
    return Status::InvalidArgument("a plan never cuts the file");
  const RoleIndex roles(check, cluster_bits);
  std::vector<const Edit*> sorted;
  for (const Edit& e : plan.edits) {
    if (e.new_bytes.empty()) return Status::InvalidArgument(where(e) + ": writes nothing");
    if (e.appended()) {
      if (e.offset < plan.size_before || e.role != Role::kFree)
        return Status::InvalidArgument(where(e) + ": new structures go past the end of the file, nowhere else");
      if (e.offset + e.new_bytes.size() > plan.size_after)
        return Status::InvalidArgument(where(e) + ": past the size the plan gives the file");
    } else {
      if (e.old_bytes.size() != e.new_bytes.size())
        return Status::InvalidArgument(where(e) + ": old and new bytes differ in length");
      if (!inside_file(e.offset, e.old_bytes.size(), plan.size_before))
        return Status::InvalidArgument(where(e) + ": outside the file");
      std::vector<uint8_t> now(e.old_bytes.size());
      QCOW2_RETURN_IF_ERROR(img.file().read(e.offset, now));
      if (now != e.old_bytes)
        return Status::InvalidArgument(where(e) + ": the file does not hold the bytes the plan expects there");
      // Header fields live in cluster 0; every other role must be the check's for those bytes.
      // Only bytes the user named may lie in guest data or in a cluster nothing references.
      // An image that cannot be walked has no roles to compare with: only the header and
      // bytes the user named can be written then.
      const bool role_ok = e.punch ? e.risk == Risk::kDestructive && roles.role_of(e.offset, e.new_bytes.size()) == Role::kFree
                           : e.user_named ? !img.walkable() || roles.role_of(e.offset, e.new_bytes.size()) == e.role ||
                                              roles.has_role(e.offset, e.new_bytes.size(), e.role)
                           : e.role == Role::kHeader ? e.offset + e.new_bytes.size() <= header_bytes
                           : !img.walkable() ? false
                           : e.role == Role::kHeader ? e.offset + e.new_bytes.size() <= header_bytes
                                                     : is_metadata(e.role) && roles.has_role(e.offset, e.new_bytes.size(), e.role);
      if (!role_ok)
        return Status::InvalidArgument(where(e) + ": the bytes do not belong to a structure of that role");
    }
    sorted.push_back(&e);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Edit* a, const Edit* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i - 1]->offset + sorted[i - 1]->new_bytes.size() > sorted[i]->offset)
      return Status::InvalidArgument(where(*sorted[i]) + ": overlaps " + where(*sorted[i - 1]));

  std::unique_ptr<Image> planned;
  CheckResult after;
  if (!planned_findings) {
    QCOW2_ASSIGN_OR_RETURN(after, check_as_planned(img, plan, planned));
    planned_findings = &after.findings;
  }
  plan.remaining.clear();
  for (const Finding& f : *planned_findings)
    if (f.category != Category::kInfo) plan.remaining.push_back(fmt::format("{}: {}", f.code, f.message));
  return Status::Ok();
}

}  // namespace qcow2
