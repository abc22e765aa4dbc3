// Every damage recipe, for the suites that run them all (never-writes, proposals, the CLI).
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/check/damage_cross_links.h"
#include "tests/check/damage_recipes.h"

namespace qcow2::test::damage {

// Every recipe, for the suites that run them all.
using Recipe = Damaged (*)(const TempDir&);
inline const std::vector<std::pair<std::string, Recipe>>& all_recipes() {
  static const std::vector<std::pair<std::string, Recipe>> all = {
      {"raise_data_refcount", raise_data_refcount},
      {"orphan_data_cluster", orphan_data_cluster},
      {"free_cluster_refcount", free_cluster_refcount},
      {"clear_copied_l2", clear_copied_l2},
      {"clear_copied_l1", clear_copied_l1},
      {"cross_link", cross_link},
      {"zero_refcount", zero_refcount},
      {"reftable_miss", reftable_miss},
      {"refcount_past_eof", refcount_past_eof},
      {"l1_unaligned", l1_unaligned},
      {"l1_past_eof", l1_past_eof},
      {"l1_reserved_bits", l1_reserved_bits},
      {"l2_reserved_bits", l2_reserved_bits},
      {"l2_unaligned", l2_unaligned},
      {"l2_past_eof", l2_past_eof},
      {"garbled_run", garbled_run},
      {"reftable_reserved_bits", reftable_reserved_bits},
      {"reftable_unaligned", reftable_unaligned},
      {"reftable_past_eof", reftable_past_eof},
      {"data_over_l1", data_over_l1},
      {"data_over_refblock", data_over_refblock},
      {"snapshot_name_length", snapshot_name_length},
      {"snapshot_name_into_data", snapshot_name_into_data},
      {"snapshot_count", snapshot_count},
      {"snapshot_l1_unaligned", snapshot_l1_unaligned},
      {"zlib_past_eof", zlib_past_eof},
      {"zstd_past_eof", zstd_past_eof},
      {"zlib_bad_stream", zlib_bad_stream},
      {"zstd_bad_stream", zstd_bad_stream},
      {"subcluster_alloc_and_zero", subcluster_alloc_and_zero},
      {"corrupt_bit", corrupt_bit},
      {"dirty_bit", dirty_bit},
      {"unknown_incompatible_bit", unknown_incompatible_bit},
      {"unknown_compatible_bit", unknown_compatible_bit},
      {"cluster_bits_40", cluster_bits_40},
      {"bitmap_in_use", bitmap_in_use},
      {"bitmap_table_reserved", bitmap_table_reserved},
      {"backing_missing", backing_missing},
      {"data_file_missing", data_file_missing},
      {"l1_into_reftable", l1_into_reftable},
      {"bitmap_directory_at_header", bitmap_directory_at_header},
      {"snapshot_table_in_l1", snapshot_table_in_l1},
      {"refblock_twice", refblock_twice},
      {"snapshot_l1_shared", snapshot_l1_shared},
      {"compressed_offset_in_partial_sector", compressed_offset_in_partial_sector},
      {"v2_zero_flag_allocated", v2_zero_flag_allocated},
      {"data_cluster_cut", data_cluster_cut},
      {"crypt_method_aes", crypt_method_aes},
      {"reftable_on_l2", reftable_on_l2},
      {"snapshot_l1_on_refblock", snapshot_l1_on_refblock},
      {"bitmap_table_on_l2", bitmap_table_on_l2},
      {"l1_flags_without_table", l1_flags_without_table},
      {"l2_unaligned_without_copied", l2_unaligned_without_copied},
  };
  return all;
}

// A recipe as a test parameter: gtest names each case by `name`.
struct RecipeParam {
  std::string name;
  Recipe make;
};
inline void PrintTo(const RecipeParam& p, std::ostream* os) { *os << p.name; }

inline std::vector<RecipeParam> recipe_params() {
  std::vector<RecipeParam> out;
  for (const auto& [name, make] : all_recipes()) out.push_back({name, make});
  return out;
}

}  // namespace qcow2::test::damage
