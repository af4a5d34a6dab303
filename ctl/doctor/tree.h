// SPDX-License-Identifier: BSD-2-Clause
// The files doctor reads, under --root (an image, a test's tree) or under /. Reading never
// blocks (a FIFO is refused, not opened for reading), never reads more than a limit, and reports
// what went wrong instead of throwing.
#pragma once

#include <string>
#include <vector>

#include "ctl/doctor/findings.h"

namespace twofactor::ctl::doctor {

struct TextFile {
    std::string path;                // as named inside the tree ("/etc/pam.d/sshd")
    std::vector<std::string> lines;  // without their newlines; lines[0] is line 1
};

enum class ReadResult { Ok, Missing, Failed };

class Tree {
public:
    explicit Tree(std::string root);

    // The path on this machine of a path inside the tree. Paths that are not absolute are
    // taken as they are (a --sshd-config given relative to the working directory).
    std::string host_path(const std::string& path) const;
    bool is_root() const { return root_.empty(); }

    // Reads a text file. On Failed, `error` says why ("Permission denied", "not a regular file").
    ReadResult read(const std::string& path, TextFile& out, std::string& error) const;
    // Like read, but a file that exists and cannot be read becomes a warning in `findings`
    // under `check`; returns true when the file was read.
    bool read_or_report(const std::string& path, TextFile& out, Findings& findings,
                        const std::string& check) const;

    // The names of the regular files in a directory, sorted; empty when it cannot be read.
    std::vector<std::string> list(const std::string& directory) const;
    bool exists(const std::string& path) const;

private:
    std::string root_;  // without a trailing slash; empty for /
};

// Splits a line into words at blanks.
std::vector<std::string> split_words(const std::string& line);
std::string trim(const std::string& text);
std::string lower(std::string text);

}  // namespace twofactor::ctl::doctor
