// Whether this binary was built with AddressSanitizer or ThreadSanitizer (GCC and clang): their
// runtimes replace malloc and keep freed memory, so tests about memory and allocation sizes
// check less under them; and code that TSan cannot see into annotates it.
//
// Thread safety: a constant.
#ifndef SHIXIN_BASE_SANITIZERS_H_
#define SHIXIN_BASE_SANITIZERS_H_

// SHIXIN_ADDRESS_SANITIZER and SHIXIN_THREAD_SANITIZER are defined under those sanitizers,
// whichever compiler says so (GCC defines __SANITIZE_*__, clang has __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define SHIXIN_ADDRESS_SANITIZER 1
#endif
#if defined(__SANITIZE_THREAD__)
#define SHIXIN_THREAD_SANITIZER 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(SHIXIN_ADDRESS_SANITIZER)
#define SHIXIN_ADDRESS_SANITIZER 1
#endif
#if __has_feature(thread_sanitizer) && !defined(SHIXIN_THREAD_SANITIZER)
#define SHIXIN_THREAD_SANITIZER 1
#endif
#endif

namespace shixin {

#if defined(SHIXIN_ADDRESS_SANITIZER) || defined(SHIXIN_THREAD_SANITIZER)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

}  // namespace shixin

#endif  // SHIXIN_BASE_SANITIZERS_H_
