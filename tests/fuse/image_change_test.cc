// The mount notices when the image changes under it (here: qemu-img snapshot run by another
// process while it is mounted), checks it again and shows the new state; a file opened before
// the change still reads its old text whole, and a name the kernel cached for a snapshot that
// was replaced never shows the replacement's text under the old identity.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>

#include "tests/fuse/fuse_test_base.h"
#include "tests/fuse/process_probe.h"
#include "tests/fuse/tree_files.h"

namespace qcow2::test {
namespace {

using std::chrono::seconds;

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

// Reads what is left of `fd` to its end.
std::string read_rest(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void snapshot(const std::string& op, const std::string& name, const std::string& image) {
  const CommandResult r = qemu_img({"snapshot", op, name, image});
  EXPECT_TRUE(r.ok()) << r.describe();
}

// `status` once its second line says the change was checked again; its last value otherwise.
std::string wait_rechecked(const Mount& m) {
  std::string s;
  wait_until(
      [&] {
        s = m.read("status");
        const auto lines = lines_of(s);
        return lines.size() >= 2 && lines[1].find(": re-checked") != std::string::npos;
      },
      seconds(30));
  return s;
}

class ImageChangeTest : public FuseTest {};

TEST_F(ImageChangeTest, ASnapshotTakenWhileMountedAppearsAndOpenFilesKeepTheirText) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m.wait_for_check(), "good 0\n");
  EXPECT_EQ(listing(m.path("snapshots")), std::set<std::string>{});
  const std::string header_before = m.read("header");
  const std::string l1_before = m.read("l1");
  // Opened before the change, read only after it.
  const int header_fd = ::open(m.path("header").c_str(), O_RDONLY);
  const int l1_fd = ::open(m.path("l1").c_str(), O_RDONLY);
  ASSERT_GE(header_fd, 0);
  ASSERT_GE(l1_fd, 0);

  snapshot("-c", "s1", image);

  const std::string status = wait_rechecked(m);
  const auto lines = lines_of(status);
  ASSERT_EQ(lines.size(), 2u) << status;
  EXPECT_EQ(lines[0], "good 0");
  EXPECT_TRUE(std::regex_match(lines[1], std::regex(R"(changed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: re-checked)")))
      << lines[1];
  EXPECT_TRUE(wait_until([&] { return listing(m.path("snapshots")) == std::set<std::string>{"1"}; }, seconds(30)))
      << "snapshots/ does not list the new snapshot";
  EXPECT_EQ(row(m.read("snapshots/1/info"), "name").at(1), "s1");
  const std::string header_after = m.read("header");
  EXPECT_EQ(row(header_after, "nb_snapshots").at(1), "0x1") << header_after;
  // The kernel's cached attributes went with the old view: sizes are the new texts' sizes.
  struct stat st {};
  ASSERT_EQ(::stat(m.path("header").c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), header_after.size());

  // The files opened before the change read their old text, completely.
  EXPECT_EQ(read_rest(header_fd), header_before);
  EXPECT_EQ(read_rest(l1_fd), l1_before);
  EXPECT_NE(header_after, header_before);
  ::close(header_fd);
  ::close(l1_fd);
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

TEST_F(ImageChangeTest, AReplacedSnapshotNeverShowsUnderTheOldOne) {
  const std::string image = fixture("v3_default");
  ASSERT_FALSE(image.empty());
  snapshot("-c", "s1", image);
  Mount& m = mount(image);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m.wait_for_check(), "good 0\n");
  // The kernel now caches the name snapshots/1 and its info for snapshot s1.
  const std::string info_before = m.read("snapshots/1/info");
  ASSERT_EQ(row(info_before, "name").at(1), "s1");
  struct stat before {};
  ASSERT_EQ(::stat(m.path("snapshots/1/info").c_str(), &before), 0);
  const int info_fd = ::open(m.path("snapshots/1/info").c_str(), O_RDONLY);
  ASSERT_GE(info_fd, 0);

  // QEMU gives the next snapshot the id after the highest one left: "1" again, in slot 1.
  snapshot("-d", "s1", image);
  snapshot("-c", "s2-with-a-longer-name", image);
  // Both changes may be noticed one by one: wait for the second.
  std::string info_after;
  EXPECT_TRUE(wait_until(
      [&] {
        info_after = m.read("snapshots/1/info");
        const auto name = row(info_after, "name");
        return name.size() > 1 && name[1] == "s2-with-a-longer-name";
      },
      seconds(30)))
      << info_after;
  EXPECT_NE(wait_rechecked(m).find(": re-checked"), std::string::npos);
  struct stat after {};
  ASSERT_EQ(::stat(m.path("snapshots/1/info").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "the same inode number now names another snapshot";
  EXPECT_EQ(static_cast<size_t>(after.st_size), info_after.size());
  // The handle opened on s1 still reads s1.
  const std::string old_text = read_rest(info_fd);
  EXPECT_EQ(old_text, info_before);
  ::close(info_fd);
  EXPECT_EQ(m.unmount(), 0) << m.log();
}

}  // namespace
}  // namespace qcow2::test
