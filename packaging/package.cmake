# The Debian package (make package; CPack's DEB generator): shixind and shixin, the systemd
# units, the example configuration (conffiles), the measure catalogs and holiday calendar, the
# sample list, the manual pages, the administrator's documents and the Debian copyright and
# changelog. Included by the top
# CMakeLists.txt after the subdirectories, whose install() rules it packages; the layout is
# that of `cmake --install` under CMAKE_INSTALL_PREFIX (/usr for a proper Debian package).
include(GNUInstallDirs)

set(SHIXIN_PACKAGE_MAINTAINER "shixin maintainers <maintainers@shixin.example.org>" CACHE STRING
  "The Maintainer field of the Debian package")

set(shixin_doc_dir ${CMAKE_INSTALL_DATADIR}/doc/shixin)
set(shixin_pkg_dir ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${shixin_pkg_dir})

# Debian wants manual pages and the changelog gzip'ed with -9 and without a time stamp (-n).
function(shixin_gzip source output)
  execute_process(COMMAND gzip -9nc ${source} OUTPUT_FILE ${output} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${source}: ${rc}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
endfunction()

configure_file(${PROJECT_SOURCE_DIR}/packaging/changelog.Debian.in
  ${shixin_pkg_dir}/changelog.Debian @ONLY)
shixin_gzip(${shixin_pkg_dir}/changelog.Debian ${shixin_pkg_dir}/changelog.Debian.gz)
shixin_gzip(${PROJECT_SOURCE_DIR}/packaging/shixind.8 ${shixin_pkg_dir}/shixind.8.gz)
shixin_gzip(${PROJECT_SOURCE_DIR}/packaging/shixin.1 ${shixin_pkg_dir}/shixin.1.gz)

install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright ${shixin_pkg_dir}/changelog.Debian.gz
  DESTINATION ${shixin_doc_dir})
# The documents the configuration, the units and the manual pages refer the administrator to
# (/usr/share/doc/shixin/...), with the figures performance.md shows; the holiday calendar's
# format beside them (each calendar file says "see README.md").
install(FILES ${PROJECT_SOURCE_DIR}/docs/shixind.md ${PROJECT_SOURCE_DIR}/docs/feed.md
  ${PROJECT_SOURCE_DIR}/docs/audit.md ${PROJECT_SOURCE_DIR}/docs/performance.md
  DESTINATION ${shixin_doc_dir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/img/ DESTINATION ${shixin_doc_dir}/img
  FILES_MATCHING PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/data/calendar/README.md
  DESTINATION ${shixin_doc_dir}/calendar)
install(FILES ${shixin_pkg_dir}/shixind.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${shixin_pkg_dir}/shixin.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/data/sample/README.md
  ${PROJECT_SOURCE_DIR}/data/sample/debtors.ndjson ${PROJECT_SOURCE_DIR}/data/sample/relations.ndjson
  DESTINATION ${CMAKE_INSTALL_DATADIR}/shixin/sample)

# The example configuration is the administrator's to edit: dpkg keeps the edits on upgrade.
file(CONFIGURE OUTPUT ${shixin_pkg_dir}/conffiles CONTENT
  "${SHIXIN_INSTALLED_CONFIG_DIR}/shixind.toml\n${SHIXIN_INSTALLED_CONFIG_DIR}/callers.toml.example\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shixin)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SHIXIN_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "lookup service for China's list of dishonest judgment debtors")
# CPack puts the summary first and indents these lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "shixind holds the list of dishonest judgment debtors and its related-person
index in memory and answers, in well under a millisecond, whether an ID is
listed and which joint-punishment measures apply to a subject for an agency.
It serves a binary protocol (optionally over TLS) to authenticated callers,
records every answer in a hash-chained audit and reloads the list without
interruption. The shixin command line queries a data directory or the daemon
and manages callers, the audit, notices and reports.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts: the group, and dh_installsystemd's handling of the units (enabling
# nothing): daemon-reload on install, upgrade and removal, shixind restarted on an upgrade if it
# ran, shixind and the compaction stopped on removal.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${shixin_pkg_dir}/conffiles
  ${PROJECT_SOURCE_DIR}/packaging/postinst ${PROJECT_SOURCE_DIR}/packaging/prerm
  ${PROJECT_SOURCE_DIR}/packaging/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# cpack installs what is built (make package builds shixind and shixin), not the whole tree.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CPack)

# The package end to end: cpack, dpkg -x into a scratch root, the installed daemon and CLI,
# lintian (about 30 s, most of it lintian). The package is a Release artifact: the sanitizer
# builds do not make one.
if(NOT SHIXIN_SANITIZE AND NOT SHIXIN_TSAN)
  add_test(NAME package_deb COMMAND ${PROJECT_SOURCE_DIR}/packaging/package_test.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_INSTALL_PREFIX} ${SHIXIN_INSTALLED_CONFIG_DIR}
    ${SHIXIN_INSTALLED_UNIT_DIR} ${PROJECT_VERSION})
  set_tests_properties(package_deb PROPERTIES LABELS package TIMEOUT 180)
endif()
