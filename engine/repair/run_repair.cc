#include "engine/repair/run_repair.h"

#include <fmt/format.h>

#include "engine/io/image_writer.h"
#include "engine/repair/make_plan.h"
#include "engine/repair/validate.h"

namespace qcow2 {
namespace {

Status check_now(const std::string& path, const RepairOptions& opt, RepairOutcome& out) {
  QCOW2_ASSIGN_OR_RETURN(out.after_image, Image::open(path));
  CheckOptions co;
  co.skip_backing = opt.skip_backing;
  QCOW2_ASSIGN_OR_RETURN(out.after, check_image(*out.after_image, co));
  return Status::Ok();
}

}  // namespace

Result<RepairOutcome> run_repair(const std::string& image_path, const RepairCommand& cmd, const RepairOptions& opt) {
  if (cmd.kind == RepairKind::kUndo) return run_undo(image_path, cmd.journal, opt);
  // A dry run writes nothing, but still must not plan from bytes a VM is changing.
  QCOW2_ASSIGN_OR_RETURN(ImageWriter w, ImageWriter::open(image_path, cmd.dry_run ? ImageWriter::Access::kReadOnly
                                                                                  : ImageWriter::Access::kReadWrite));
  QCOW2_ASSIGN_OR_RETURN(std::unique_ptr<Image> img, Image::open(image_path));
  CheckOptions co;
  co.skip_backing = opt.skip_backing;
  co.max_findings_per_code = plan_findings_per_code(img->file_size());
  QCOW2_ASSIGN_OR_RETURN(CheckResult before, check_image(*img, co));
  RepairOutcome out;
  QCOW2_ASSIGN_OR_RETURN(out.plan, make_plan(*img, before, cmd));
  if (cmd.dry_run || out.plan.empty()) {
    QCOW2_ASSIGN_OR_RETURN(out.after, check_as_planned(*img, out.plan, out.after_image));
    return out;
  }
  img.reset();
  const std::string journal = opt.journal.empty() ? default_journal_path(image_path) : opt.journal;
  QCOW2_ASSIGN_OR_RETURN(ApplyResult applied, apply_plan(w, out.plan, journal));
  out.applied = true;
  out.journal = applied.journal;
  out.warning = applied.warning;
  QCOW2_RETURN_IF_ERROR(check_now(image_path, opt, out));
  return out;
}

Result<RepairOutcome> run_undo(const std::string& image_path, const std::string& journal, const RepairOptions& opt) {
  QCOW2_ASSIGN_OR_RETURN(ImageWriter w, ImageWriter::open(image_path));
  const std::string undo_journal = opt.journal.empty() ? default_journal_path(image_path) : opt.journal;
  QCOW2_ASSIGN_OR_RETURN(ApplyResult applied, undo_repair(w, journal, undo_journal));
  RepairOutcome out;
  out.plan.what = fmt::format("undo the repair {} records", journal);
  out.applied = true;
  out.journal = applied.journal;
  out.warning = applied.warning;
  QCOW2_RETURN_IF_ERROR(check_now(image_path, opt, out));
  return out;
}

}  // namespace qcow2
