// Colours for terminal output. With colour off every code is an empty string, so renderers
// can always write {style.error()}…{style.reset()} without branching.
#pragma once

#include <string_view>

namespace qcow2 {

class Style {
 public:
  explicit Style(bool color = false) : color_(color) {}
  bool color() const { return color_; }

  std::string_view error() const { return pick("\033[31m"); }    // red: damage, problems
  std::string_view counter() const { return pick("\033[33m"); }  // yellow: counter lines
  std::string_view section() const { return pick("\033[32m"); }  // green: section headers
  std::string_view title() const { return pick("\033[36m"); }    // cyan: sub-headings
  std::string_view banner() const { return pick("\033[1;31m"); }  // bold red: corrupt banner
  std::string_view reset() const { return pick("\033[0m"); }

 private:
  std::string_view pick(std::string_view code) const { return color_ ? code : std::string_view(); }
  bool color_;
};

}  // namespace qcow2
