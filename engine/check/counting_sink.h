// The first pass's sink: counts references per host cluster, keeps the structural findings
// and remembers where metadata lives.
#pragma once

#include <map>
#include <string>

#include "engine/check/checker.h"
#include "engine/check/ref_counter.h"

namespace qcow2 {

class CountingSink : public ReferenceSink {
 public:
  CountingSink(const Geometry& g, uint64_t clusters, uint64_t max_expected, size_t cap)
      : g_(g), counter_(clusters, max_expected), cap_(cap) {}

  void reference(uint64_t first, uint64_t count, uint64_t times, const Referrer& r) override;
  void active(uint64_t cluster, bool copied) override {
    if (cluster < counter_.clusters()) counter_.mark_active(cluster, copied);
  }
  bool wants_findings() const override { return true; }
  void finding(Finding f) override { add_finding(std::move(f)); }
  void findings_not_listed(const std::string& code, Category category, uint64_t n) override {
    per_code_[code] += n;
    category_[code] = category;
  }
  RefCounter* plain_counter() override { return &counter_; }

  // Keeps at most `cap` findings per code; the rest are counted and summarised in flush().
  void add_finding(Finding f);
  std::vector<Finding> flush();

  // Room for `n` metadata ranges at once: grown by doubling, the vector would briefly hold
  // two copies (6 MiB for 256 GiB of 4 KiB clusters) just when the counter is largest.
  void reserve_metadata(size_t n) { metadata_.reserve(n); }

  RefCounter& counter() { return counter_; }
  std::vector<MetaRange>& metadata() { return metadata_; }

 private:
  const Geometry& g_;
  RefCounter counter_;
  size_t cap_;
  std::vector<Finding> findings_;
  std::map<std::string, uint64_t> per_code_;
  std::map<std::string, Category> category_;  // of codes only counted
  std::vector<MetaRange> metadata_;
};

}  // namespace qcow2
