# Where `cmake --install` and the .deb put things, as Debian expects them (GNUInstallDirs
# honours CMAKE_INSTALL_PREFIX; DESTDIR is prepended by cmake --install itself). Only the two
# programs, their man pages and their bash completions: tests and fuzz targets install nothing.
include(GNUInstallDirs)

install(TARGETS qcow2-dump RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES man/qcow2-dump.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# bash-completion loads a completion on demand from a file named after the command.
set(QCOW2_COMPLETIONS_DIR ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES completion/qcow2-dump DESTINATION ${QCOW2_COMPLETIONS_DIR})
if(TARGET qcow2fs)
  install(TARGETS qcow2fs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES man/qcow2fs.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES completion/qcow2fs DESTINATION ${QCOW2_COMPLETIONS_DIR})
endif()
