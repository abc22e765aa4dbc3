// Turns findings into facts a repair can apply: for each finding whose new value is proven,
// the value (Finding::proposed) and the risk of writing it; the proposals of one check agree
// with each other, so that writing all of them leaves an image the check calls clean for every
// finding that has one.
//
// - Lost L2 entries are inferred where the layout proves them: a run of zero or damaged entries
//   between two entries that map consecutive clusters, when the clusters between are referenced
//   by nothing and their refcounts are exactly what the entries would give them. Such a cluster
//   is the inferred home of lost data and is never proposed to be freed.
// - Refcounts are proposed from the references, except for clusters that are cross-linked or
//   referenced from a suspect table (raising them would make the damage look legitimate).
//   Freeing a leaked cluster is safe only when it holds nothing (all zeros); otherwise it may
//   hold what a damaged entry lost, and the proposal is marked destructive.
// - COPIED flags are proposed against the refcount the other proposals leave, and the dirty and
//   corrupt bits only when everything else has a proposal.
// - Findings about a suspect table (cross-linked, or mostly not table entries) lose their
//   proposals and say so.
#pragma once

#include <vector>

#include "engine/check/checker.h"
#include "engine/check/finding.h"
#include "engine/check/layout.h"
#include "engine/check/ref_counter.h"
#include "engine/check/referrers.h"
#include "engine/io/image.h"

namespace qcow2 {

// `metadata`: the check's metadata ranges, sorted and merged. No proposal writes outside them
// (guest data) or into a cluster two structures claim (the layout's contested clusters, the
// clusters of cross-link and overlap findings).
void propose_fixes(const Image& img, const Layout& layout, const std::vector<MetaRange>& metadata,
                   const RefCounter& counts, const ReferrerMap& referrers, std::vector<Finding>& findings);

// The value of a finding's field: its masked bits, shifted down (a refcount, a flag).
uint64_t field_value(const Finding& f, uint64_t value);

}  // namespace qcow2
