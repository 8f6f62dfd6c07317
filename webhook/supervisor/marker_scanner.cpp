#include "supervisor/marker_scanner.hpp"

#include <algorithm>

namespace lug::supervisor {

marker_scanner::marker_scanner(std::array<std::string_view, marker_count> markers) : markers_(markers) {
  for (const auto marker : markers_) longest_ = std::max(longest_, marker.size());
  carry_.reserve(longest_);
}

void marker_scanner::scan(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      scan_line_part(bytes);
      return;
    }
    scan_line_part(bytes.substr(0, newline));
    carry_.clear();
    bytes.remove_prefix(newline + 1);
  }
}

void marker_scanner::scan_line_part(std::string_view part) {
  if (longest_ == 0) return;
  // A marker straddling the previous read and this one lies within the carry plus this
  // part's first longest_ - 1 bytes; one wholly inside the part is found in the part.
  std::string joint = carry_;
  joint.append(part.substr(0, longest_ - 1));
  for (std::size_t i = 0; i < marker_count; ++i) {
    if (seen_[i] || markers_[i].empty()) continue;
    seen_[i] = joint.find(markers_[i]) != std::string::npos || part.find(markers_[i]) != std::string_view::npos;
  }
  // Keep what could begin a marker that the next read completes.
  const std::size_t keep = longest_ - 1;
  if (part.size() >= keep) {
    carry_.assign(part.substr(part.size() - keep));
  } else {
    carry_.append(part);
    if (carry_.size() > keep) carry_.erase(0, carry_.size() - keep);
  }
}

}  // namespace lug::supervisor
