//! Storage for held payments (queued or pending), with intrusive links.
//!
//! Slots are recycled through a free list, so once the slab has grown to the
//! largest number of payments held at once, holding a payment allocates
//! nothing. Links (`next`, `prev`) let the gross strategy keep one doubly
//! linked FIFO list per sender without any per-payment allocation; `prev`
//! fills what would be padding, so a slot stays 40 bytes.

use super::Payment;

/// "No slot": the end of a list.
pub const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Slot {
    payment: Payment,
    next: u32,
    prev: u32,
}

#[derive(Debug, Default)]
pub struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Slab {
    pub fn with_capacity(capacity: usize) -> Slab {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
        }
    }

    /// Payments currently held.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Slots ever used: every slot index is below it.
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores a payment and returns its slot.
    #[inline]
    pub fn insert(&mut self, payment: Payment) -> u32 {
        let slot = Slot {
            payment,
            next: NIL,
            prev: NIL,
        };
        match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = slot;
                index
            }
            None => {
                let index = self.slots.len();
                assert!(
                    index < NIL as usize,
                    "more than 2^32-1 payments held at once"
                );
                self.slots.push(slot);
                index as u32
            }
        }
    }

    /// Frees a slot and returns the payment it held.
    #[inline]
    pub fn remove(&mut self, index: u32) -> Payment {
        self.free.push(index);
        self.slots[index as usize].payment
    }

    #[inline]
    pub fn get(&self, index: u32) -> &Payment {
        &self.slots[index as usize].payment
    }

    #[inline]
    pub fn next(&self, index: u32) -> u32 {
        self.slots[index as usize].next
    }

    #[inline]
    pub fn set_next(&mut self, index: u32, next: u32) {
        self.slots[index as usize].next = next;
    }

    #[inline]
    pub fn prev(&self, index: u32) -> u32 {
        self.slots[index as usize].prev
    }

    #[inline]
    pub fn set_prev(&mut self, index: u32, prev: u32) {
        self.slots[index as usize].prev = prev;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory budget per held payment (≤ 64 bytes) rests on these sizes.
    #[test]
    fn held_payments_are_small() {
        assert_eq!(std::mem::size_of::<Payment>(), 32);
        assert_eq!(std::mem::size_of::<Slot>(), 40);
    }
}
