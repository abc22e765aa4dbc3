// A repair plan as text: what it does, its risk, the file's size before and after, every edit
// (offset, width, old and new bytes, the finding it answers, why), what it holds back and what
// the check would still report. `qcow2-dump --dry-run` prints it; the mount's ctl/plan holds it.
#pragma once

#include <string>

#include "engine/repair/plan.h"

namespace qcow2 {

std::string plan_text(const Plan& plan);

}  // namespace qcow2
