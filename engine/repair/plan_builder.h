// Builds a plan edit by edit against the image as it is, and checks the image as the edits so
// far would leave it (through an overlay: nothing is written). The planners (plan_*.h) share
// it, so that every plan follows the same rules: a field is written by one edit whatever
// number of findings concern it; old bytes are always the file's; new structures go at the end.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/check/checker.h"
#include "engine/repair/plan.h"

namespace qcow2 {

class PlanBuilder {
 public:
  PlanBuilder(const Image& img, std::string what);

  const Image& image() const { return img_; }
  const Plan& plan() const { return plan_; }
  Plan& plan() { return plan_; }

  // Sets bits `mask` of the big-endian `width`-byte field at `offset` (inside the file) to
  // those of `value`, merging with an edit that already covers the field. Returns whether
  // the plan changed. Refuses a field that partly overlaps another edit.
  Result<bool> set_bits(uint64_t offset, unsigned width, uint64_t mask, uint64_t value, Role role,
                        std::string_view code, std::string_view why, Risk risk);
  // Replaces bytes inside the file (old bytes read from it).
  Status replace(uint64_t offset, std::vector<uint8_t> bytes, Role role, std::string_view code,
                 std::string_view why, Risk risk, bool user_named = false);
  // Appends a new structure at the plan's end (cluster-aligned past the end of the file) and
  // returns its offset.
  uint64_t append(std::vector<uint8_t> bytes, std::string_view code, std::string_view why, Risk risk);
  // Where the next appended cluster would go.
  uint64_t next_append_offset() const;

  // The check of the image as the plan leaves it. The image it reads stays valid until the
  // next call.
  Result<const CheckResult*> check_planned();
  // The image as the plan leaves it, as the last check_planned() read it; the image itself
  // before any check_planned() (while the plan is empty, they are the same).
  const Image& planned_image() const { return planned_ ? *planned_ : img_; }
  // Whether the plan is still what the last check_planned() checked (no edit since).
  bool planned_is_current() const { return planned_ && current_; }
  const CheckResult& planned_check() const { return planned_check_; }

  // The plan, its edits in write order: new structures first, then edits inside the file by
  // offset, header fields (cluster 0) last, so that on a version 2 image (no corrupt-bit guard)
  // the header switches to new structures only once they are written.
  Plan finish();

 private:
  const Image& img_;
  Plan plan_;
  std::unique_ptr<Image> planned_;
  CheckResult planned_check_;
  bool current_ = false;
};

}  // namespace qcow2
