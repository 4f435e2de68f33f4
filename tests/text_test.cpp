// Whole occurrences: what erasure takes for a person's name, e-mail or
// birth date in stored text, and what it must leave alone.
#include "engine/text.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mentorflow {
namespace {

TEST(WholeOccurrences, ANameStandsWholeBetweenNonLetters) {
  EXPECT_EQ(WholeOccurrences("Иван Петров, (Иван) и «Иван»", "Иван"), (std::vector<std::size_t>{0, 24, 39}));
  EXPECT_TRUE(ContainsWhole("Иван", "Иван"));
  EXPECT_TRUE(ContainsWhole("<td>Иван</td>", "Иван"));
}

TEST(WholeOccurrences, PartOfALongerWordIsNotTheName) {
  EXPECT_FALSE(ContainsWhole("Иванова Мария", "Иван"));
  EXPECT_FALSE(ContainsWhole("Иоанн Иванович", "Иван"));
  EXPECT_FALSE(ContainsWhole("Ли Лицей", "Лиц"));
  EXPECT_FALSE(ContainsWhole("Zoë", "Zo"));
  EXPECT_FALSE(ContainsWhole("Ann", "An"));
  // The second occurrence stands whole although the first does not.
  EXPECT_EQ(WholeOccurrences("Иванова и Иван", "Иван"), (std::vector<std::size_t>{18}));
}

TEST(WholeOccurrences, ADateIsNotPartOfALongerNumberOrAMinute) {
  EXPECT_TRUE(ContainsWhole("birth: 2013-04-02;", "2013-04-02"));
  EXPECT_TRUE(ContainsWhole("(02.04.2013 г. р.)", "02.04.2013"));
  EXPECT_FALSE(ContainsWhole("12013-04-021", "2013-04-02"));
  EXPECT_FALSE(ContainsWhole("2013-04-02T10:00", "2013-04-02"));
}

TEST(WholeOccurrences, EdgesThatAreNotLettersNeedNoBoundary) {
  // An escaped name ends in ';' or begins with '&': the text beside it may be anything.
  EXPECT_TRUE(ContainsWhole("x&amp;y", "&amp;"));
  EXPECT_TRUE(ContainsWhole("a<b>c", "<b>"));
  EXPECT_TRUE(ContainsWhole("mail:ivan@example.org.", "ivan@example.org"));
  EXPECT_FALSE(ContainsWhole("xivan@example.org", "ivan@example.org"));
  EXPECT_TRUE(WholeOccurrences("anything", "").empty());
  EXPECT_TRUE(WholeOccurrences("", "Иван").empty());
}

TEST(WholeOccurrences, BytesThatAreNotUtf8CountAsLetters) {
  EXPECT_FALSE(ContainsWhole(std::string("\xD0Иван"), "Иван"));
  EXPECT_FALSE(ContainsWhole(std::string("Иван\xFF"), "Иван"));
}

TEST(ReplaceWhole, ReplacesOnlyWholeOccurrences) {
  EXPECT_EQ(ReplaceWhole("Иван и Иванова; Иван.", "Иван", "X"), "X и Иванова; X.");
  EXPECT_EQ(ReplaceWhole("ничего", "Иван", "X"), "ничего");
  EXPECT_EQ(ReplaceWhole("aa aa", "aa", "aa aa"), "aa aa aa aa");  // the replacement is not searched again
}

// Issue 23, finding 10 (OWASP CSV injection): no cell is read as a formula.
TEST(CsvField, QuotesWhatItMustAndNeutralisesFormulas) {
  EXPECT_EQ(CsvField("Сельская школа"), "Сельская школа");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"x\""), "\"say \"\"x\"\"\"");
  EXPECT_EQ(CsvField("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  for (const char* f : {"+1", "-1+2", "@SUM(A1)", "\tx", "\rx"}) EXPECT_EQ(CsvField(f).find('\''), f[0] == '\r' ? 1u : 0u) << f;
  EXPECT_EQ(CsvField("12"), "12");
  EXPECT_EQ(CsvField(""), "");
}

// Issue 23, finding 13: an address that would smuggle an SMTP parameter
// ("a@b.c> BODY=8BITMIME <x@y") is not an address.
TEST(IsEmailAddress, OnlyWhatSmtpTakesAsOneAddress) {
  for (const char* ok : {"mentorflow@localhost", "curator@example.org", "first.last+tag@school-1.ru", "a@b"})
    EXPECT_TRUE(IsEmailAddress(ok)) << ok;
  for (const char* bad : {"a@b.c> BODY=8BITMIME <x@y", "a b@c.d", "@c.d", "a@", "a@.d", "a@d.", "a..b@c.d",
                          ".a@c.d", "a@-c.d", "a@c-.d", "<a@c.d>", "a@c.d\r\nRCPT TO:<x@y>", "почта@пример.рф", ""})
    EXPECT_FALSE(IsEmailAddress(bad)) << bad;
}

TEST(UpperCase, CyrillicLatinAndYo) {
  EXPECT_EQ(UpperCase("Пётр Ёлкин, élan x1"), "ПЁТР ЁЛКИН, ÉLAN X1");
  EXPECT_EQ(UpperCase(std::string("a\xFF" "b")), std::string("A\xFF" "B"));  // not UTF-8: kept as it is
}

// The forms erasure looks for in a person's own free text (issue 23).
TEST(NameForms, OrdersInitialsAndUpperCaseNeverOneWord) {
  const auto forms = NameForms("Иванова Мария Петровна");
  for (const char* f : {"Иванова Мария Петровна", "Мария Петровна Иванова", "Иванова Мария", "Мария Иванова",
                        "Иванова М. П.", "Иванова М.П.", "М. П. Иванова", "ИВАНОВА МАРИЯ ПЕТРОВНА", "ИВАНОВА М.П.",
                        // the surname last, as people sign
                        "Петровна И. М."})
    EXPECT_NE(std::find(forms.begin(), forms.end(), f), forms.end()) << f;
  for (const char* f : {"Иванова", "Мария", "Петровна", "ИВАНОВА"})
    EXPECT_EQ(std::find(forms.begin(), forms.end(), f), forms.end()) << f;
  for (std::size_t i = 1; i < forms.size(); ++i) EXPECT_GE(forms[i - 1].size(), forms[i].size());  // longest first
  const auto two = NameForms("Ольга Иванова");
  for (const char* f : {"Иванова Ольга", "ИВАНОВА ОЛЬГА", "Иванова О.", "О. Иванова", "Ольга И."})
    EXPECT_NE(std::find(two.begin(), two.end(), f), two.end()) << f;
  EXPECT_EQ(NameForms("Центр"), (std::vector<std::string>{"Центр", "ЦЕНТР"}));
}

}  // namespace
}  // namespace mentorflow
