# SPDX-License-Identifier: BSD-2-Clause
# Install rules: the daemon, the CLI, the PAM module, systemd integration, the default
# configuration and the man pages.

# Debian 12 keeps units in /lib/systemd/system (debhelper looks there); sysusers.d and tmpfiles.d
# live under /usr/lib. Take systemd's own answer when its pkg-config file is there.
set(_unit_dir_default "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
set(_sysusers_dir_default "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d")
set(_tmpfiles_dir_default "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d")
pkg_check_modules(SYSTEMD_PC QUIET systemd)
if(SYSTEMD_PC_FOUND)
    pkg_get_variable(_unit_dir_default systemd systemdsystemunitdir)
    pkg_get_variable(_sysusers_dir_default systemd sysusersdir)
    pkg_get_variable(_tmpfiles_dir_default systemd tmpfilesdir)
endif()
set(TWOFACTOR_SYSTEMD_UNIT_DIR "${_unit_dir_default}" CACHE PATH "Where systemd units go")
set(TWOFACTOR_SYSUSERS_DIR "${_sysusers_dir_default}" CACHE PATH "Where sysusers.d files go")
set(TWOFACTOR_TMPFILES_DIR "${_tmpfiles_dir_default}" CACHE PATH "Where tmpfiles.d files go")
set(TWOFACTOR_MAN_PAGES AUTO CACHE STRING
    "Build man pages from doc/*.md with pandoc: ON (required), OFF, or AUTO (when pandoc exists)")
set_property(CACHE TWOFACTOR_MAN_PAGES PROPERTY STRINGS ON OFF AUTO)

install(TARGETS twofactord RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS twofactorctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# A module is dlopen()ed by libpam: no soname symlinks, no import library.
install(TARGETS pam_twofactor LIBRARY DESTINATION ${PAM_MODULE_DIR} NAMELINK_SKIP)

install(FILES ${CMAKE_SOURCE_DIR}/systemd/twofactord.service ${CMAKE_SOURCE_DIR}/systemd/twofactord.socket
        DESTINATION ${TWOFACTOR_SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/systemd/twofactord.sysusers
        DESTINATION ${TWOFACTOR_SYSUSERS_DIR} RENAME twofactord.conf)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/twofactord.tmpfiles
        DESTINATION ${TWOFACTOR_TMPFILES_DIR} RENAME twofactord.conf)
# Readable by all: the daemon runs as _twofactord and twofactorctl reads nothing from it, but the
# file holds no secret unless an administrator puts one there (the comments say where not to).
install(FILES ${CMAKE_SOURCE_DIR}/etc/twofactord.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/twofactord)

# Man pages: doc/NAME.SECTION.md is the source, pandoc writes roff at build time.
set(_man_pages pam_twofactor.8 twofactorctl.1 twofactord.8 twofactord.conf.5)
if(NOT TWOFACTOR_MAN_PAGES STREQUAL "OFF")
    find_program(PANDOC_EXECUTABLE pandoc)
    if(NOT PANDOC_EXECUTABLE AND TWOFACTOR_MAN_PAGES STREQUAL "ON")
        message(FATAL_ERROR "TWOFACTOR_MAN_PAGES=ON but pandoc was not found (apt-get install pandoc)")
    endif()
endif()
if(PANDOC_EXECUTABLE AND NOT TWOFACTOR_MAN_PAGES STREQUAL "OFF")
    # pandoc gives a table's columns 70 ens in all; with tbl's gaps that overflows an 80-column
    # terminal, and man --warnings (which lintian runs) complains. Narrow them, and set the text
    # ragged-right so that narrow cells do not warn "cannot adjust line".
    set(_man_filter ${CMAKE_BINARY_DIR}/man/man-filter.lua)
    file(WRITE ${_man_filter} [=[
function Pandoc(doc)
  table.insert(doc.blocks, 1, pandoc.RawBlock('man', '.ad l'))
  return doc
end

function Table(t)
  for _, spec in ipairs(t.colspecs) do
    if type(spec[2]) == 'number' then spec[2] = spec[2] * 0.8 end
  end
  return t
end
]=])
    set(_manual_1 "User Commands")
    set(_manual_5 "File Formats Manual")
    set(_manual_8 "System Manager's Manual")
    set(_man_outputs "")
    foreach(page IN LISTS _man_pages)
        set(_source ${CMAKE_SOURCE_DIR}/doc/${page}.md)
        if(NOT EXISTS ${_source})
            if(TWOFACTOR_MAN_PAGES STREQUAL "ON")
                message(FATAL_ERROR "man page source ${_source} is missing")
            endif()
            message(STATUS "man page source doc/${page}.md missing: ${page} will not be built")
            continue()
        endif()
        string(REGEX MATCH "^(.+)\\.([1-9])$" _match ${page})
        set(_name ${CMAKE_MATCH_1})
        set(_section ${CMAKE_MATCH_2})
        string(TOUPPER ${_name} _title)
        set(_output ${CMAKE_BINARY_DIR}/man/${page})
        # The title line is set here, whatever the Markdown's title block says, so every page
        # gets the same kind of header and footer and no build date (reproducible builds).
        # -smart: pandoc would otherwise print --option as an en dash.
        add_custom_command(OUTPUT ${_output}
            COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
            COMMAND ${PANDOC_EXECUTABLE} --standalone --from=markdown-smart --to=man
                    --lua-filter=${_man_filter}
                    --metadata=title:${_title} --metadata=section:${_section}
                    "--metadata=header:${_manual_${_section}}"
                    "--metadata=footer:twofactor ${PROJECT_VERSION}"
                    --metadata=date: --output=${_output} ${_source}
            DEPENDS ${_source} ${_man_filter}
            COMMENT "Building man page ${page}"
            VERBATIM)
        list(APPEND _man_outputs ${_output})
        install(FILES ${_output} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_section})
    endforeach()
    add_custom_target(man_pages ALL DEPENDS ${_man_outputs})
elseif(NOT TWOFACTOR_MAN_PAGES STREQUAL "OFF")
    message(STATUS "pandoc not found: man pages will not be built")
endif()
