#include "engine/text.h"

#include <algorithm>
#include <cstdio>

namespace mentorflow {

namespace {

// The length of the valid UTF-8 sequence at s[i] and its code point, or 0
// when the bytes there are not one (overlong forms, surrogates and code
// points past U+10FFFF are not).
std::size_t Sequence(std::string_view s, std::size_t i, char32_t* code_point) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  char32_t cp = 0;
  if (c < 0x80) n = 0, cp = c;
  else if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
  else return 0;
  if (i + n >= s.size() && n > 0) return 0;
  for (std::size_t k = 1; k <= n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  *code_point = cp;
  return n + 1;
}

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

}  // namespace

std::size_t FirstInvalidUtf8(std::string_view s) {
  char32_t cp = 0;
  for (std::size_t i = 0, n = 0; i < s.size(); i += n)
    if ((n = Sequence(s, i, &cp)) == 0) return i;
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

void LineColumnAt(std::string_view s, std::size_t offset, int* line, int* column) {
  *line = 1;
  *column = 1;
  for (std::size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++*line;
      *column = 1;
    } else if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      ++*column;
    }
  }
}

Status CheckId(std::string_view what, std::string_view id) {
  if (id.empty()) return Status::BadInput(std::string(what) + " is empty");
  if (id.size() > kMaxIdBytes)
    return Status::BadInput(std::string(what) + " is longer than " + std::to_string(kMaxIdBytes) + " characters");
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      return Status::BadInput(std::string(what) + " may contain only A-Z, a-z, 0-9, '_', '.' and '-'");
  return Status::Ok();
}

Status CheckText(std::string_view what, std::string_view text, std::size_t max_bytes, bool multiline) {
  if (!IsValidUtf8(text)) return Status::BadInput(std::string(what) + " is not valid UTF-8");
  if (text.size() > max_bytes)
    return Status::BadInput(std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  char32_t cp = 0;
  for (std::size_t i = 0, n = 0; i < text.size(); i += n) {
    n = Sequence(text, i, &cp);
    if (IsControl(cp) && !(multiline && (cp == '\n' || cp == '\t')))
      return Status::BadInput(std::string(what) + " contains a control character");
  }
  return Status::Ok();
}

std::string EscapeControls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [&out](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", c);
    out += buf;
  };
  char32_t cp = 0;
  for (std::size_t i = 0, n = 0; i < s.size(); i += n) {
    n = Sequence(s, i, &cp);
    if (n == 0) {  // not UTF-8: each byte shown, none passed through
      hex(static_cast<unsigned char>(s[i]));
      n = 1;
    } else if (cp == '\\') out += "\\\\";
    else if (cp == '\n') out += "\\n";
    else if (cp == '\t') out += "\\t";
    else if (cp == '\r') out += "\\r";
    else if (IsControl(cp)) for (std::size_t k = 0; k < n; ++k) hex(static_cast<unsigned char>(s[i + k]));
    else out.append(s, i, n);
  }
  return out;
}

namespace {

// Letters and digits, as far as names and dates need: ASCII, Latin-1 and
// Latin Extended letters, combining marks, Greek, Cyrillic.
bool IsWordCodePoint(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  if (cp >= 0xC0 && cp <= 0x24F) return cp != 0xD7 && cp != 0xF7;
  return (cp >= 0x300 && cp <= 0x3FF) || (cp >= 0x400 && cp <= 0x52F);
}

// The code point that begins at s[i] (invalid bytes count as a letter, so
// that a needle is never taken as whole next to them).
bool WordAt(std::string_view s, std::size_t i) {
  char32_t cp = 0;
  return Sequence(s, i, &cp) == 0 || IsWordCodePoint(cp);
}

// The code point that ends just before s[i].
bool WordBefore(std::string_view s, std::size_t i) {
  std::size_t b = i - 1;
  while (b > 0 && i - b < 4 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  return WordAt(s, b);
}

}  // namespace

std::vector<std::size_t> WholeOccurrences(std::string_view text, std::string_view needle) {
  std::vector<std::size_t> out;
  if (needle.empty()) return out;
  const bool word_first = WordAt(needle, 0), word_last = WordBefore(needle, needle.size());
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
    const std::size_t end = at + needle.size();
    if (word_first && at > 0 && WordBefore(text, at)) continue;
    if (word_last && end < text.size() && WordAt(text, end)) continue;
    if (!out.empty() && at < out.back() + needle.size()) continue;
    out.push_back(at);
  }
  return out;
}

std::string ReplaceWhole(std::string_view text, std::string_view needle, std::string_view with) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t at : WholeOccurrences(text, needle)) {
    out.append(text.substr(from, at - from)).append(with);
    from = at + needle.size();
  }
  out.append(text.substr(from));
  return out;
}

bool IsEmailAddress(std::string_view s) {
  const auto at = s.rfind('@');
  if (s.size() > 254 || at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  const std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  for (std::size_t i = 0; i < local.size(); ++i) {
    const char c = local[i];
    if (c == '.' ? local[i - 1] == '.' : !(alnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos))
      return false;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0 || label > 63 || domain[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    const char c = domain[i];
    if (!(alnum(c) || (c == '-' && label > 0))) return false;
    ++label;
  }
  return true;
}

std::string CsvField(std::string_view s) {
  std::string v(s);
  if (!v.empty() && std::string_view("=+-@\t\r").find(v[0]) != std::string_view::npos) v.insert(0, 1, '\'');
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string UpperCase(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto put = [&](char32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const std::size_t n = Sequence(s, i, &cp);
    if (n == 0) {  // not UTF-8: the byte as it is
      out += s[i++];
      continue;
    }
    if (cp >= 'a' && cp <= 'z') cp -= 0x20;
    else if (cp >= 0x430 && cp <= 0x44F) cp -= 0x20;               // а..я
    else if (cp >= 0x450 && cp <= 0x45F) cp -= 0x50;               // ѐ..џ (ё)
    else if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) cp -= 0x20;   // Latin-1
    if (n > 3 || cp >= 0x10000) out.append(s, i, n);
    else put(cp);
    i += n;
  }
  return out;
}

std::vector<std::string> NameForms(std::string_view name) {
  std::vector<std::string> words;
  for (std::size_t i = 0; i < name.size();) {
    const std::size_t b = name.find_first_not_of(' ', i);
    if (b == std::string_view::npos) break;
    std::size_t e = name.find(' ', b);
    if (e == std::string_view::npos) e = name.size();
    words.emplace_back(name.substr(b, e - b));
    i = e;
  }
  std::vector<std::string> forms;
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(forms.begin(), forms.end(), f) == forms.end()) forms.push_back(f);
  };
  add(std::string(name));
  // The first letter of a word and a dot (a whole UTF-8 character).
  auto initial = [](const std::string& w) {
    std::size_t n = 1;
    while (n < w.size() && (static_cast<unsigned char>(w[n]) & 0xC0) == 0x80) ++n;
    return w.substr(0, n) + ".";
  };
  // The surname first (as forms are filled in) or last (as people sign).
  if (words.size() == 2 || words.size() == 3) {
    for (const bool surname_first : {true, false}) {
      const std::string surname = surname_first ? words.front() : words.back();
      std::vector<std::string> given(words.begin() + (surname_first ? 1 : 0), words.end() - (surname_first ? 0 : 1));
      std::string all, initials, tight;
      for (const auto& g : given) {
        all += (all.empty() ? "" : " ") + g;
        initials += (initials.empty() ? "" : " ") + initial(g);
        tight += initial(g);
      }
      add(surname + " " + all);
      add(all + " " + surname);
      if (given.size() == 2) {
        add(surname + " " + given[0]);
        add(given[0] + " " + surname);
      }
      for (const auto& i : {initials, tight}) {
        add(surname + " " + i);
        add(i + " " + surname);
      }
    }
  }
  const std::size_t written = forms.size();
  for (std::size_t i = 0; i < written; ++i) add(UpperCase(forms[i]));
  std::stable_sort(forms.begin(), forms.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return forms;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

}  // namespace mentorflow
