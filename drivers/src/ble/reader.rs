//! A bounds-checked little-endian cursor over a payload: every read either yields a value or a
//! [`DecodeError::Truncated`], so decoders never index past the end.

use super::error::DecodeError;

/// Reads fields in order from a payload.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
    flags: Option<u8>,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, naming `what` in its errors.
    pub(crate) fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            what,
            flags: None,
        }
    }

    /// Reads the flags byte and remembers it for error messages.
    pub(crate) fn flags(&mut self) -> Result<u8, DecodeError> {
        let f = self.u8()?;
        self.flags = Some(f);
        Ok(f)
    }

    /// Fails unless at least `need` bytes in total are present (checked once the flags are known,
    /// so the error states the whole requirement, not just the next field).
    pub(crate) fn require(&self, need: usize) -> Result<(), DecodeError> {
        if self.bytes.len() < need {
            return Err(DecodeError::Truncated {
                what: self.what,
                len: self.bytes.len(),
                flags: self.flags,
                need,
            });
        }
        Ok(())
    }

    /// Fails unless every byte has been consumed.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.pos < self.bytes.len() {
            return Err(DecodeError::TrailingBytes {
                what: self.what,
                len: self.bytes.len(),
                flags: self.flags,
                max: self.pos,
            });
        }
        Ok(())
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.saturating_add(n);
        match self.bytes.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Truncated {
                what: self.what,
                len: self.bytes.len(),
                flags: self.flags,
                need: end,
            }),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(i8::from_le_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u24(&mut self) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u16_be(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn i16_be(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32_be(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// The error context, for decoders that build their own errors.
    pub(crate) fn what(&self) -> &'static str {
        self.what
    }
}
