# SPDX-License-Identifier: BSD-2-Clause
# The daemon proper, as a library so that tests can drive the service without a process.
add_library(twofactord_core STATIC
    challenges.cpp
    factor_change.cpp
    host_id.cpp
    file_trust.cpp
    limits.cpp
    log.cpp
    log_budget.cpp
    log_format.cpp
    login.cpp
    recovery.cpp
    server.cpp
    service.cpp
    settings.cpp
    verify.cpp
    voice.cpp
    setup_limits.cpp
    store_thread.cpp
    threaded_service.cpp
    trust.cpp
)
target_link_libraries(twofactord_core PUBLIC twofactor_flags twofactor_common twofactord_store
    twofactord_twilio PkgConfig::SYSTEMD Threads::Threads)

add_executable(twofactord main.cpp)
target_link_libraries(twofactord PRIVATE twofactor_flags twofactord_core)
