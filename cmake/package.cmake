# `cpack -G DEB` in the build directory: qcow2fs_VERSION_ARCH.deb with what cmake/install.cmake
# installs, under /usr. Depends: what dpkg-shlibdeps finds the binaries linked against (libc6,
# libstdc++6, libfmt9, libfuse3-3, zlib1g, libzstd1, ...), plus fuse3, which the mount needs at
# run time (fusermount3) but links nothing from.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME qcow2fs)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "qcow2 image metadata: a FUSE view (qcow2fs) and a checker (qcow2-dump)")
# One string: set() with several would make a list, and CPack would print its separators.
set(CPACK_PACKAGE_DESCRIPTION "qcow2fs mounts a qcow2 disk image's metadata (header, snapshots, \
L1/L2 tables, refcounts) as a tree of text files; qcow2-dump checks, dumps and repairs it, \
command-line compatible with the well-known tool of that name. Both open the image read-only \
unless told to repair it.")
set(QCOW2FS_MAINTAINER "qcow2fs developers <qcow2fs@localhost>" CACHE STRING "Maintainer field of the .deb")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${QCOW2FS_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries are ~40 MB each with their debug info
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # qcow2fs_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
find_program(DPKG_SHLIBDEPS dpkg-shlibdeps)
if(DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # appended to the Depends above
else()
  # Debian 12's names for what the binaries link (see `ldd build/qcow2fs`).
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS
         ", libfuse3-3 (>= 3.14), libfmt9, zlib1g, libzstd1, libstdc++6 (>= 12), libgcc-s1, libc6 (>= 2.36)")
endif()
include(CPack)
