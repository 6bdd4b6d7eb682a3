// Whether this binary was built with AddressSanitizer or ThreadSanitizer (GCC and clang): their
// runtimes replace malloc and keep freed memory, so tests about memory and allocation sizes
// check less under them; and code that TSan cannot see into annotates it.
//
// Thread safety: a constant.
#ifndef SHIXIN_BASE_SANITIZERS_H_
#define SHIXIN_BASE_SANITIZERS_H_

// SHIXIN_THREAD_SANITIZER is defined under ThreadSanitizer, whichever compiler says so (GCC
// defines __SANITIZE_THREAD__, clang has __has_feature).
#if defined(__SANITIZE_THREAD__)
#define SHIXIN_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHIXIN_THREAD_SANITIZER 1
#endif
#endif

namespace shixin {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif
#else
inline constexpr bool kSanitizedBuild = false;
#endif

}  // namespace shixin

#endif  // SHIXIN_BASE_SANITIZERS_H_
