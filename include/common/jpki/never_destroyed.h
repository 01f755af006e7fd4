// SPDX-License-Identifier: MIT
// Storage for a global that must outlive static destruction: hosts call PKCS#11 functions from
// exit handlers after the module's own static destructors have run (pdfsig's NSS_Shutdown,
// OpenSSL's cleanup with pkcs11-provider; module/library.cpp). The object lives inside the
// library's own static storage and its destructor is never run, so there is no destructor to run
// too early and no heap block left behind when the library is unloaded (valgrind finds no leak
// after dlclose).
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace jpki {

template <class T>
class NeverDestroyed {
 public:
  template <class... A>
  explicit NeverDestroyed(A&&... args) noexcept(std::is_nothrow_constructible_v<T, A...>) {
    new (storage_) T(std::forward<A>(args)...);
  }
  NeverDestroyed(const NeverDestroyed&) = delete;
  NeverDestroyed& operator=(const NeverDestroyed&) = delete;
  ~NeverDestroyed() = default;  // trivial: registers nothing at exit

  T& get() noexcept { return *std::launder(reinterpret_cast<T*>(storage_)); }
  T* operator->() noexcept { return &get(); }

 private:
  alignas(T) unsigned char storage_[sizeof(T)]{};  // zeroed, then T is constructed in it
};

}  // namespace jpki
