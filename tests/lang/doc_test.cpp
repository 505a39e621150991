// doc_test.cpp - docs/command-language.md against the parser: every ```iosim block parses
// (each block on its own, in order, as a script would), every ```iosim-error block line
// is refused with the reason the doc gives, and the grammar table names every command.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "lang/lang_test_support.h"

using namespace iosim::lang;

namespace {

struct Block {
    std::string kind;  // "iosim" or "iosim-error"
    int first_line = 0;
    std::vector<std::string> lines;
};

std::string Doc() { return langtest::Source("docs/command-language.md"); }

std::vector<Block> Blocks()
{
    std::ifstream in(Doc());
    std::vector<Block> blocks;
    std::string line;
    Block* open = nullptr;
    for (int number = 1; std::getline(in, line); ++number) {
        if (open == nullptr && (line == "```iosim" || line == "```iosim-error")) {
            blocks.push_back({line.substr(3), number + 1, {}});
            open = &blocks.back();
        } else if (open != nullptr && line == "```") {
            open = nullptr;
        } else if (open != nullptr) {
            open->lines.push_back(line);
        }
    }
    return blocks;
}

}  // namespace

TEST(Documentation, EveryExampleBlockParses)
{
    auto blocks = Blocks();
    ASSERT_GT(blocks.size(), 10u) << "no examples found in " << Doc();
    int parsed = 0;
    for (const auto& block : blocks) {
        if (block.kind != "iosim")
            continue;
        Scope scope;
        for (size_t i = 0; i < block.lines.size(); ++i) {
            Location at{Doc(), block.first_line + static_cast<int>(i), 0};
            try {
                parse_line(block.lines[i], at, scope);
                ++parsed;
            } catch (const ScriptError& error) {
                ADD_FAILURE() << error.what();
            }
        }
    }
    EXPECT_GT(parsed, 50);
}

TEST(Documentation, UnsupportedExamplesAreRefusedWithTheirReason)
{
    int refused = 0;
    for (const auto& block : Blocks()) {
        if (block.kind != "iosim-error")
            continue;
        for (size_t i = 0; i < block.lines.size(); ++i) {
            const std::string& line = block.lines[i];
            if (line.empty() || line[0] == '#')
                continue;
            Scope scope;
            scope.variables["h"] = Scope::Kind::Handle;
            try {
                parse_line(line, {Doc(), block.first_line + static_cast<int>(i), 0}, scope);
                ADD_FAILURE() << Doc() << ":" << block.first_line + i << ": parsed, but the doc says it is refused: "
                              << line;
            } catch (const ScriptError& error) {
                EXPECT_NE(std::string(error.what()).find("is not in the command language yet"),
                          std::string::npos)
                    << error.what();
                ++refused;
            }
        }
    }
    EXPECT_EQ(refused, static_cast<int>(unsupported_table().size()));
}

TEST(Documentation, TheGrammarTableNamesEveryCommandAndExpectation)
{
    std::ifstream in(Doc());
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& info : command_table())
        EXPECT_NE(text.str().find(std::string("| `") + info.syntax + "`"), std::string::npos)
            << "the grammar table lacks: | `" << info.syntax << "`";
    for (const auto& word : expectation_words())
        EXPECT_NE(text.str().find("| `expect " + word), std::string::npos) << "no row for expect " << word;
    for (const auto& info : unsupported_table())
        EXPECT_NE(text.str().find(std::string("`") + info.word + "`"), std::string::npos) << info.word;
}
