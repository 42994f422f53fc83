// Messages: a typed C++ value boxed once in a heap node and moved through mailboxes by pointer,
// never copied or serialized in-process. The node doubles as the intrusive link of the MPSC
// queue. A Message is owned by exactly one place at a time (a queue, a handler, a reply slot).
#pragma once

#include <atomic>
#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "troupe/runtime/block_pool.h"
#include "troupe/runtime/request.h"
#include "troupe/runtime/type_tag.h"

namespace troupe {

// The queue link. Kept free of a vtable so that a queue's stub node costs one pointer.
struct MessageNode {
  std::atomic<MessageNode*> next{nullptr};
};

struct Message : MessageNode {
  explicit Message(TypeTag t) : type(t) {}
  virtual ~Message() = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  virtual const char* type_name() const = 0;

  // Every message lives in the block pool (sized delete: the dynamic type's size).
  static void* operator new(std::size_t size) { return block_pool::allocate(size); }
  static void operator delete(void* p, std::size_t size) { block_pool::deallocate(p, size); }

  template <class T>
  bool is() const {
    return type == type_tag<T>();
  }
  template <class T>
  T& as();

  TypeTag type;
  // Set for ask: where the reply goes. Empty for tell.
  RequestRef request;
  // The handler took the reply slot (Actor::take_reply) to answer later.
  bool reply_taken = false;
};

template <class T>
struct TypedMessage final : Message {
  template <class... A>
  explicit TypedMessage(A&&... args) : Message(type_tag<T>()), value(std::forward<A>(args)...) {}
  const char* type_name() const override { return typeid(T).name(); }
  T value;
};

template <class T>
T& Message::as() {
  return static_cast<TypedMessage<T>*>(this)->value;
}

using MessagePtr = std::unique_ptr<Message>;

template <class T>
MessagePtr make_message(T&& value) {
  return std::make_unique<TypedMessage<std::decay_t<T>>>(std::forward<T>(value));
}

}  // namespace troupe
