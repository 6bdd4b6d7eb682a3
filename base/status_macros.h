// Early returns on errors (absl::Status, absl::StatusOr), in the usual Google style:
//
//   absl::Status Load(const std::string& path) {
//     SHIXIN_RETURN_IF_ERROR(CheckPath(path));
//     SHIXIN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     SHIXIN_ASSIGN_OR_RETURN(config_, Parse(text));
//     return absl::OkStatus();
//   }
//
// Both work in a function returning absl::Status or any absl::StatusOr<T>.
//
// Thread safety: macros; they add nothing shared.
#ifndef SHIXIN_BASE_STATUS_MACROS_H_
#define SHIXIN_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once; returns it from the enclosing function unless it is
// OK. A single statement: safe as the body of an unbraced if/else.
#define SHIXIN_RETURN_IF_ERROR(expr)                                    \
  do {                                                                  \
    if (::absl::Status shixin_status_ = (expr); !shixin_status_.ok()) { \
      return shixin_status_;                                            \
    }                                                                   \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; returns its status from the enclosing
// function unless it is OK, else moves its value into `lhs`, which is a declaration
// (`auto x`, `std::unique_ptr<T> p`) or an existing variable. Expands to several statements
// (the declaration must stay in scope): not usable as the body of an unbraced if. `lhs` must
// not contain an unparenthesised comma (give such a type an alias).
#define SHIXIN_ASSIGN_OR_RETURN(lhs, rexpr)                                                    \
  SHIXIN_ASSIGN_OR_RETURN_IMPL_(SHIXIN_STATUS_MACROS_CONCAT_(shixin_statusor_, __LINE__), lhs, \
                                rexpr)

// Implementation details. `statusor` and `lhs` cannot be parenthesised: they are declared.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SHIXIN_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define SHIXIN_STATUS_MACROS_CONCAT_(x, y) SHIXIN_STATUS_MACROS_CONCAT_INNER_(x, y)
#define SHIXIN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) {                                     \
    return std::move(statusor).status();                    \
  }                                                         \
  lhs = *std::move(statusor)
// NOLINTEND(bugprone-macro-parentheses)

#endif  // SHIXIN_BASE_STATUS_MACROS_H_
