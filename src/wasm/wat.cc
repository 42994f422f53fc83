#include "troupe/wasm/wat.h"

#include <wabt/binary-writer.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/validator.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>

namespace troupe::wasm {

Result<std::vector<std::uint8_t>> wat_to_wasm(std::string_view wat) {
  wabt::Errors errors;
  auto lexer = wabt::WastLexer::CreateBufferLexer("guest.wat", wat.data(), wat.size(), &errors);
  std::unique_ptr<wabt::Module> module;
  wabt::Features features;
  wabt::WastParseOptions parse_options(features);
  if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &parse_options))) {
    return Error{BaseErrc::kInvalidArgument,
                 wabt::FormatErrorsToString(errors, wabt::Location::Type::Text)};
  }
  wabt::MemoryStream stream;
  wabt::WriteBinaryOptions write_options;
  if (wabt::Failed(wabt::WriteBinaryModule(&stream, module.get(), write_options))) {
    return Error{BaseErrc::kInternal, "cannot encode the module"};
  }
  return std::move(stream.output_buffer().data);
}

}  // namespace troupe::wasm
