// What text may come in, and how it goes out: ids from a small ASCII set,
// names and values as valid UTF-8 of bounded length, and control characters
// escaped in text output so that no value can forge a line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace mentorflow {

// An id (a person, an instance, a reference in an import) is 1..64 of
// A-Z a-z 0-9 _ . - : ASCII only, so two ids that look alike are alike
// (a Cyrillic 'с' never passes for a Latin 'c'; NFC leaves ASCII unchanged).
constexpr std::size_t kMaxIdBytes = 64;
// A person's name, an e-mail address.
constexpr std::size_t kMaxNameBytes = 200;
// A string value (--set, an import line's "set").
constexpr std::size_t kMaxValueBytes = 4000;

bool IsValidUtf8(std::string_view s);
// The offset of the first byte that does not begin a valid UTF-8 sequence, or npos.
std::size_t FirstInvalidUtf8(std::string_view s);
// The 1-based line and column (in characters) of byte `offset` of `s`.
void LineColumnAt(std::string_view s, std::size_t offset, int* line, int* column);

// BadInput naming `what` (never echoing the bad text) unless `id` is an id.
Status CheckId(std::string_view what, std::string_view id);
// BadInput unless `text` is valid UTF-8 of at most `max_bytes` without
// control characters (a line break and a tab allowed when `multiline`).
Status CheckText(std::string_view what, std::string_view text, std::size_t max_bytes, bool multiline = false);

// For text output: control characters (C0, DEL, C1) as \n, \t, \r or \xHH
// per byte, bytes that are not UTF-8 as \xHH, a backslash as \\.
std::string EscapeControls(std::string_view s);

// The parts with `sep` between them ("a, b, c").
std::string Join(const std::vector<std::string>& parts, std::string_view sep = ", ");

// Where `needle` stands in `text` as a whole: on each side where the needle
// begins or ends with a letter or digit, the text has none next to it
// (letters: ASCII, Latin, Greek, Cyrillic, combining marks). "Иван" stands
// whole in "Иван Петров" and "(Иван)", not in "Иванова"; "2013-04-02" not in
// "12013-04-021" nor in "2013-04-02T10:00". The byte offsets, left to right,
// not overlapping; none for an empty needle.
std::vector<std::size_t> WholeOccurrences(std::string_view text, std::string_view needle);
inline bool ContainsWhole(std::string_view text, std::string_view needle) {
  return !WholeOccurrences(text, needle).empty();
}
// `text` with every whole occurrence of `needle` replaced by `with`.
std::string ReplaceWhole(std::string_view text, std::string_view needle, std::string_view with);

// An e-mail address as SMTP takes it in MAIL FROM and RCPT TO: LOCAL@DOMAIN,
// at most 254 bytes, the local part of RFC 5321 atoms (letters, digits and
// !#$%&'*+/=?^_`{|}~- joined by single dots), the domain of labels of
// letters, digits and inner hyphens joined by dots. ASCII only: no spaces,
// no angle brackets, nothing that could add an SMTP parameter.
bool IsEmailAddress(std::string_view s);

// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line
// break. A field a spreadsheet would take for a formula — beginning with
// = + - @, a tab or a carriage return (OWASP: CSV injection) — is prefixed
// with an apostrophe, so it is shown as text and never evaluated. Every CSV
// the program writes goes through this.
std::string CsvField(std::string_view s);

// `s` in upper case: ASCII, Cyrillic (Ё included) and Latin-1 letters; other
// characters as they are.
std::string UpperCase(std::string_view s);

// The forms in which free text may write a person's full name, longest
// first: as written and in upper case; for two or three words, taking the
// surname to be the first word (Фамилия Имя Отчество) or the last, also the
// other order ("Мария Петровна Иванова"), "Фамилия Имя", "Имя Фамилия", and
// initials ("Иванова М. П.", "Иванова М.П.", "М. П. Иванова"). Never a
// single word of a longer name: a given
// name or a surname alone belongs to many people. Declined forms (Ивановой)
// are not produced.
std::vector<std::string> NameForms(std::string_view name);

}  // namespace mentorflow
