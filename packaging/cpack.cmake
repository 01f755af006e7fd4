# SPDX-License-Identifier: MIT
# Debian package of jpki-pkcs11 (CPack DEB generator). Included at the very end of the top-level
# CMakeLists.txt, after every subdirectory, so it sees all targets (jpki-tool included).
#
#   cmake -S . -B build/deb -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DJPKI_BUILD_TESTS=OFF
#   cmake --build build/deb -j2 --target jpki-pkcs11 jpki-tool
#   (cd build/deb && cpack -G DEB)           # → jpki-pkcs11_<version>_amd64.deb
# packaging/build-deb.sh does this (with dpkg-buildflags hardening flags) and runs lintian.

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "jpki-pkcs11: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; "
                 "configure with -DCMAKE_INSTALL_PREFIX=/usr to build the Debian package")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME jpki-pkcs11)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "jpki-pkcs11 developers")
set(CPACK_PACKAGE_CONTACT "jpki-pkcs11 developers <dev@jpki-pkcs11.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "PKCS#11 module for the Japanese My Number Card (JPKI)")
set(CPACK_PACKAGE_DESCRIPTION
"This package provides a PKCS#11 module that makes the two keys of the JPKI
application on the Japanese Individual Number Card (My Number Card) usable
through any PKCS#11 consumer: the user authentication key (4-digit PIN) for
TLS client authentication, and the digital signature key (6 to 16 character
password) for document signatures. The card is reached through PC/SC
(pcscd).

The module is registered with p11-kit, so p11-kit-proxy, GnuTLS and OpenSSL
(through the pkcs11 engine or provider) find it without configuration. The
jpki-tool register command registers it in Firefox and Chromium. Web browsers
see only the authentication token, so they never ask for the signature
password.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)           # jpki-pkcs11_0.1.0_amd64.deb
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Explicit run-time needs (pcscd is a service, p11-kit the registry: no ELF dependency finds
# them) plus whatever dpkg-shlibdeps derives from the ELF files (libc6, libstdc++6, libssl3, …).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "pcscd, libpcsclite1, libssl3, p11-kit")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libnss3-tools")   # modutil/certutil for jpki-tool register
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "opensc")   # pkcs11-tool
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Install destinations under /etc and p11-kit's absolute directories: stage with DESTDIR.
set(CPACK_SET_DESTDIR ON)
# Stripping (as dh_strip does: also .comment and .note) and gzip -9n of the man pages and the
# changelog (Debian policy 10.1, 12.1, 12.7) happen in the staging tree.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb-prebuild.cmake)
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
