// Whole occurrences: what erasure takes for a person's name, e-mail or
// birth date in stored text, and what it must leave alone.
#include "engine/text.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mentorflow
