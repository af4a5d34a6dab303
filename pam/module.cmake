# SPDX-License-Identifier: BSD-2-Clause
# pam_twofactor.so: a thin PAM module. Everything but the entry points lives in a static PIC
# library so the unit tests can link the same code.
add_library(pam_twofactor_core STATIC
    options.cpp
    outcomes.cpp
    log.cpp
    conversation.cpp
    flow.cpp
    not_texted.cpp
    groups.cpp
    account.cpp
)
target_include_directories(pam_twofactor_core PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
target_link_libraries(pam_twofactor_core PUBLIC twofactor_protocol twofactor_flags
    ${PAM_LIBRARY})
set_target_properties(pam_twofactor_core PROPERTIES POSITION_INDEPENDENT_CODE ON)

add_library(pam_twofactor MODULE entry.cpp)
target_link_libraries(pam_twofactor PRIVATE pam_twofactor_core twofactor_flags)
set_target_properties(pam_twofactor PROPERTIES
    PREFIX ""
    LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/exports.map)
target_link_options(pam_twofactor PRIVATE
    -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/exports.map
    -Wl,--no-undefined
    -Wl,-z,relro,-z,now)
