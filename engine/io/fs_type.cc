#include "engine/io/fs_type.h"

#include <fmt/format.h>
#include <sys/vfs.h>

#include <algorithm>
#include <array>
#include <utility>

namespace qcow2 {
namespace {

// Linux's filesystem magics (linux/magic.h and the filesystems' own headers), named as
// coreutils' stat names them, except FUSE's, which stat calls "fuseblk" for every FUSE mount.
constexpr std::pair<uint32_t, const char*> kNames[] = {
    {0x00000187, "autofs"},        {0x0000002f, "qnx4"},          {0x00001373, "devfs"},
    {0x0000137d, "ext"},           {0x0000137f, "minix"},         {0x0000138f, "minix (30 char.)"},
    {0x00002468, "minix v2"},      {0x00002478, "minix v2 (30 char.)"},
    {0x00003434, "nilfs"},         {0x00004000, "isofs"},         {0x00004004, "isofs"},
    {0x00004006, "fat"},           {0x00004244, "hfs"},           {0x0000482b, "hfs+"},
    {0x00004858, "hfsx"},          {0x00004d44, "msdos"},         {0x00004d5a, "minix3"},
    {0x0000517b, "smb"},           {0x0000564c, "novell"},        {0x00005df5, "exofs"},
    {0x00006969, "nfs"},           {0x000072b6, "jffs2"},         {0x00007275, "romfs"},
    {0x00009660, "isofs"},         {0x00009fa0, "proc"},          {0x00009fa1, "openprom"},
    {0x00009fa2, "usbdevfs"},      {0x0000adf5, "adfs"},          {0x0000adff, "affs"},
    {0x0000ef51, "ext2"},          {0x0000ef53, "ext2/ext3"},     {0x0000f15f, "ecryptfs"},
    {0x00011954, "ufs"},           {0x0027e0eb, "cgroupfs"},      {0x00414a53, "efs"},
    {0x00c0ffee, "hostfs"},        {0x00c36400, "ceph"},          {0x01021994, "tmpfs"},
    {0x01021997, "v9fs"},          {0x01161970, "gfs/gfs2"},      {0x012fd16d, "xia"},
    {0x012ff7b4, "xenix"},         {0x012ff7b5, "sysv4"},         {0x012ff7b6, "sysv2"},
    {0x012ff7b7, "coh"},           {0x0bd00bd0, "lustre"},        {0x11307854, "inodefs"},
    {0x15013346, "udf"},           {0x19800202, "mqueue"},        {0x19830326, "fhgfs"},
    {0x1badface, "bfs"},           {0x24051905, "ubifs"},         {0x28cd3d45, "cramfs"},
    {0x2fc12fc1, "zfs"},           {0x3153464a, "jfs"},           {0x42465331, "befs"},
    {0x42494e4d, "binfmt_misc"},   {0x43415d53, "smackfs"},       {0x453dcd28, "cramfs-wend"},
    {0x454d444d, "devpts"},        {0x47504653, "gpfs"},          {0x50495045, "pipefs"},
    {0x52654973, "reiserfs"},      {0x5346314d, "m1fs"},          {0x5346414f, "afs"},
    {0x5346544e, "ntfs"},          {0x534f434b, "sockfs"},        {0x53464846, "wslfs"},
    {0x54190100, "ufs"},           {0x565a4653, "vzfs"},          {0x58295829, "zsmallfs"},
    {0x58465342, "xfs"},           {0x5dca2df5, "sdcardfs"},      {0x61756673, "aufs"},
    {0x6165676c, "pstorefs"},      {0x62646576, "bdevfs"},        {0x62656570, "configfs"},
    {0x62656572, "sysfs"},         {0x63677270, "cgroup2fs"},     {0x64626720, "debugfs"},
    {0x65735543, "fusectl"},       {0x65735546, "fuse"},          {0x67596969, "rpc_pipefs"},
    {0x68191122, "qnx6"},          {0x6b414653, "k-afs"},
    {0x6e667364, "nfsd"},          {0x6e736673, "nsfs"},          {0x7461636f, "ocfs2"},
    {0x73636673, "securityfs"},    {0x73717368, "squashfs"},      {0x73727279, "btrfs_test"},
    {0x74726163, "tracefs"},       {0x794c7630, "overlayfs"},     {0x7c7c6673, "prl_fs"},
    {0x858458f6, "ramfs"},         {0x9123683e, "btrfs"},         {0x958458f6, "hugetlbfs"},
    {0xa501fcf5, "vxfs"},          {0xaad7aaea, "panfs"},         {0xabba1974, "xenfs"},
    {0xbacbacbc, "vmhgfs"},        {0xbeefdead, "snfs"},          {0xc7571590, "ppc-cmm-fs"},
    {0xcafe4a11, "bpf_fs"},        {0xde5e81e4, "efivarfs"},      {0xe0f5e1e2, "erofs"},
    {0xf2f52010, "f2fs"},          {0xf97cff8c, "selinux"},       {0xf995e849, "hpfs"},
    {0xfe534d42, "smb2"},          {0xff534d42, "cifs"},          {0x2011bab0, "exfat"},
    {0x07655821, "rdt"},           {0x09041934, "anon-inode FS"}, {0x0bad1dea, "futexfs"},
    {0x2bad1dea, "inotifyfs"},     {0x013111a8, "ibrix"},
};

}  // namespace

std::string fs_type_name(uint64_t magic) {
  const auto* it = std::find_if(std::begin(kNames), std::end(kNames),
                                [&](const auto& e) { return e.first == magic; });
  if (it != std::end(kNames)) return it->second;
  return fmt::format("unknown (0x{:x})", magic);
}

std::optional<uint64_t> fs_magic(int fd) {
  struct statfs s {};
  if (::fstatfs(fd, &s) != 0) return std::nullopt;
  // f_type is a signed long: a magic with the top bit set (btrfs, smb2) comes out negative.
  return static_cast<uint32_t>(s.f_type);
}

std::string host_fs_type(int fd) {
  const auto magic = fs_magic(fd);
  return magic ? fs_type_name(*magic) : "unknown";
}

}  // namespace qcow2
