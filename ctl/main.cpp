// SPDX-License-Identifier: BSD-2-Clause
// twofactorctl: talks to twofactord for the administrator and for users acting on their own
// account. Exit status: 0 success, 1 refused, 2 usage, 69 daemon unreachable.
#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "common/client.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/output.h"
#include "paths.h"

using namespace twofactor::ctl;

int main(int argc, char** argv) {
    try {
        Invocation invocation = parse_arguments(argc, argv);
        if (invocation.help) {
            std::string text = usage_text();
            std::fwrite(text.data(), 1, text.size(), stdout);
            return kExitSuccess;
        }
        if (invocation.version) {
            print_line(std::string("twofactorctl ") + twofactor::paths::kVersion);
            return kExitSuccess;
        }
        return run_command(invocation);
    } catch (const UsageError& e) {
        print_error_line(e.what());
        std::fputs("Try 'twofactorctl --help' for more information.\n", stderr);
        return kExitUsage;
    } catch (const twofactor::Unreachable& e) {
        print_error_line(std::string("cannot reach twofactord: ") + e.what());
        return kExitUnreachable;
    } catch (const std::bad_alloc&) {
        print_error_line("out of memory");
        return kExitRefused;
    } catch (const std::exception& e) {
        print_error_line(e.what());
        return kExitRefused;
    } catch (...) {
        print_error_line("unexpected failure");
        return kExitRefused;
    }
}
