// What the repair tests share: running a repair through qcow2-dump, finding its journal,
// and the guest's view of an image as a hash.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/check/check_helpers.h"

namespace qcow2::test {

// The undo journals beside `image` (IMAGE.<stamp>.qcow2fs-undo), oldest first.
inline std::vector<std::string> journals_of(const std::string& image) {
  std::vector<std::string> out;
  const std::filesystem::path p(image);
  const std::string prefix = p.filename().string() + ".", suffix = ".qcow2fs-undo";
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size() + suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::filesystem::last_write_time(a) < std::filesystem::last_write_time(b) ||
           (std::filesystem::last_write_time(a) == std::filesystem::last_write_time(b) && a < b);
  });
  return out;
}

// SHA-256 of what the guest reads (qemu-img convert -O raw), of a snapshot when named; "" when
// qemu-img cannot read it.
inline std::string guest_hash(const TempDir& dir, const std::string& image, const std::string& snapshot = "") {
  const std::string raw = dir.file("guest-" + std::to_string(std::hash<std::string>{}(image + snapshot)) + ".raw");
  std::vector<std::string> args = {"convert", "-O", "raw"};
  if (!snapshot.empty()) args.insert(args.end(), {"-l", "snapshot.name=" + snapshot});
  args.insert(args.end(), {image, raw});
  if (!qemu_img(args, dir.path()).ok()) return "";
  const std::string h = sha256_file(raw);
  std::filesystem::remove(raw);
  return h;
}

// qemu-img check says clean: no corruptions, no leaks.
inline void expect_qemu_clean(const std::string& image) {
  const QemuCheck q = qemu_check(image);
  ASSERT_TRUE(q.ran) << "qemu-img check could not check " << image << ": " << q.err;
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.corruptions, 0u) << q.err;
  EXPECT_EQ(q.leaks, 0u) << q.err;
}

// Our check's status word for `image`, after a repair.
inline std::string status_of(const std::string& image) {
  CheckOptions o;
  o.skip_backing = true;
  const Checked c = check_file(image, o);
  return c.ok ? status_word(c.res.status) : "unreadable";
}

inline bool plan_is_empty(const CommandResult& dry) { return dry.out.find("\nedits: 0\n") != std::string::npos; }

}  // namespace qcow2::test
