#include "engine/render/plan_text.h"

#include <fmt/format.h>

#include "engine/util/escape.h"

namespace qcow2 {
namespace {

// Up to 16 bytes in hex; longer runs by their size.
std::string bytes_text(const std::vector<uint8_t>& b) {
  if (b.size() > 16) return fmt::format("({} bytes)", b.size());
  std::string out = "0x";
  for (uint8_t x : b) out += fmt::format("{:02x}", x);
  return out;
}

}  // namespace

std::string plan_text(const Plan& plan) {
  std::string out = fmt::format("plan: {}\nrisk: {}\nfile size: {} -> {} bytes\nedits: {}\n", escape_text(plan.what),
                                risk_name(plan.risk()), plan.size_before, plan.size_after, plan.edits.size());
  size_t n = 0;
  for (const Edit& e : plan.edits) {
    ++n;
    const std::string change = e.punch      ? "hole punched"
                               : e.appended() ? fmt::format("new {}", bytes_text(e.new_bytes))
                                              : fmt::format("{} -> {}", bytes_text(e.old_bytes), bytes_text(e.new_bytes));
    out += fmt::format("  {:>4}. 0x{:x} +{} {} [{}, {}, {}]: {}\n", n, e.offset, e.new_bytes.size(), change,
                       e.appended() ? "past the end" : role_name(e.role), escape_text(e.code), risk_name(e.risk),
                       escape_text(e.why));
  }
  if (!plan.skipped.empty()) {
    out += "held back:\n";
    for (const std::string& s : plan.skipped) out += "  " + escape_text(s) + "\n";
  }
  if (plan.remaining.empty()) {
    out += "after it, the check finds nothing to report\n";
  } else {
    out += fmt::format("after it, the check still reports {}:\n", plan.remaining.size());
    for (const std::string& s : plan.remaining) out += "  " + escape_text(s) + "\n";
  }
  return out;
}

}  // namespace qcow2
