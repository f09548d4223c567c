//! SPDY/3.1 frames: the 8-byte frame header, the control frames k2d reads and writes, and the
//! name/value header blocks, compressed with one zlib stream per direction and the SPDY
//! dictionary.
//!
//! Hand-written: no maintained Rust crate speaks SPDY/3.1 (the protocol was retired in
//! browsers; only Kubernetes' streaming endpoints still use it). The compression itself is
//! `flate2`.

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::dictionary::dictionary;

/// The protocol version in control frames.
pub const VERSION: u16 = 3;
/// Largest frame payload accepted (SPDY's length field is 24 bits).
pub const MAX_PAYLOAD: usize = 0x00ff_ffff;
/// `FLAG_FIN`: the sender's last frame on this stream.
pub const FLAG_FIN: u8 = 0x01;

/// A name/value header block, in order.
pub type Headers = Vec<(String, String)>;

/// A SPDY frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// Stream data.
    Data {
        /// The stream.
        stream: u32,
        /// `FLAG_FIN` ends the sender's half of the stream.
        fin: bool,
        /// The payload.
        data: Bytes,
    },
    /// A peer opens a stream.
    SynStream {
        /// The new stream's id.
        stream: u32,
        /// The stream it belongs to (0 for none).
        associated: u32,
        /// Half-closed by the sender at once.
        fin: bool,
        /// The headers.
        headers: Headers,
    },
    /// The answer to a `SynStream`.
    SynReply {
        /// The stream.
        stream: u32,
        /// Half-closes the answering side.
        fin: bool,
        /// The headers.
        headers: Headers,
    },
    /// Aborts a stream.
    RstStream {
        /// The stream.
        stream: u32,
        /// Why (1 protocol error, 5 cancel, ...).
        status: u32,
    },
    /// Connection settings (k2d reads and ignores them).
    Settings,
    /// A ping, echoed with the same id.
    Ping(u32),
    /// The peer stops the connection.
    GoAway {
        /// The last stream the sender processed.
        last_stream: u32,
        /// Why.
        status: u32,
    },
    /// More headers for a stream (k2d ignores them).
    Headers {
        /// The stream.
        stream: u32,
    },
    /// A flow-control window update (k2d applies no flow control, as Kubernetes' SPDY peers).
    WindowUpdate,
}

/// A frame that could not be understood: the connection ends with this message.
#[derive(Debug, PartialEq)]
pub struct FrameError(pub String);

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The header decompressor of one direction of a connection.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(Decompress::new(true))
    }
}

impl Inflater {
    /// Inflates one header block (its zlib stream continues across blocks).
    pub fn inflate(&mut self, block: &[u8]) -> Result<Vec<u8>, FrameError> {
        let bad = |e: &dyn std::fmt::Display| FrameError(format!("bad header block: {e}"));
        let mut out = Vec::with_capacity(block.len() * 4 + 64);
        let mut input = block;
        loop {
            let before_in = self.0.total_in();
            if out.capacity() == out.len() {
                out.reserve(out.len().max(256));
            }
            match self
                .0
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
            {
                Ok(status) => {
                    let used = (self.0.total_in() - before_in) as usize;
                    input = &input[used..];
                    if input.is_empty() && out.len() < out.capacity() {
                        return Ok(out);
                    }
                    if status == Status::StreamEnd {
                        return Err(FrameError("bad header block: zlib stream ended".into()));
                    }
                    if used == 0 && out.len() < out.capacity() {
                        return Err(FrameError("bad header block: truncated".into()));
                    }
                }
                Err(e) if e.needs_dictionary().is_some() => {
                    let used = (self.0.total_in() - before_in) as usize;
                    input = &input[used..];
                    self.0.set_dictionary(dictionary()).map_err(|e| bad(&e))?;
                }
                Err(e) => return Err(bad(&e)),
            }
        }
    }
}

/// The header compressor of one direction of a connection.
pub struct Deflater(Compress);

impl Default for Deflater {
    fn default() -> Self {
        let mut c = Compress::new(Compression::default(), true);
        c.set_dictionary(dictionary())
            .expect("zlib takes a preset dictionary before the first byte");
        Deflater(c)
    }
}

impl Deflater {
    /// Compresses one header block, flushed so the peer can read it at once.
    pub fn deflate(&mut self, block: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(block.len() + 64);
        let mut input = block;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(256);
            }
            let before = self.0.total_in();
            self.0
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .expect("zlib compresses into a growing buffer");
            input = &input[(self.0.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                return out;
            }
        }
    }
}

/// Encodes a header block (before compression).
pub fn encode_headers(headers: &Headers) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_u32(headers.len() as u32);
    for (k, v) in headers {
        b.put_u32(k.len() as u32);
        b.put_slice(k.as_bytes());
        b.put_u32(v.len() as u32);
        b.put_slice(v.as_bytes());
    }
    b.to_vec()
}

/// Decodes a header block (after decompression). Names are lower-cased, as SPDY requires.
pub fn decode_headers(mut b: &[u8]) -> Result<Headers, FrameError> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
        if b.len() < n {
            return Err(FrameError("bad header block: truncated".into()));
        }
        let (head, rest) = b.split_at(n);
        *b = rest;
        Ok(head)
    }
    fn u32_of(b: &mut &[u8]) -> Result<usize, FrameError> {
        let v = take(b, 4)?;
        Ok(u32::from_be_bytes([v[0], v[1], v[2], v[3]]) as usize)
    }
    let count = u32_of(&mut b)?;
    let mut headers = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let n = u32_of(&mut b)?;
        let name = String::from_utf8_lossy(take(&mut b, n)?).to_ascii_lowercase();
        let n = u32_of(&mut b)?;
        let value = String::from_utf8_lossy(take(&mut b, n)?).into_owned();
        headers.push((name, value));
    }
    Ok(headers)
}

/// The first value of a header.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, FrameError> {
    b.get(at..at + 4)
        .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
        .ok_or_else(|| FrameError("control frame too short".into()))
}

/// The 8-byte frame header: whether a control frame, and the payload length.
pub fn payload_len(head: &[u8; 8]) -> usize {
    u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize
}

/// Decodes one frame from its 8-byte header and payload.
pub fn decode(
    head: &[u8; 8],
    payload: Bytes,
    inflater: &mut Inflater,
) -> Result<Frame, FrameError> {
    let flags = head[4];
    if head[0] & 0x80 == 0 {
        let stream = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) & 0x7fff_ffff;
        return Ok(Frame::Data {
            stream,
            fin: flags & FLAG_FIN != 0,
            data: payload,
        });
    }
    let version = u16::from_be_bytes([head[0] & 0x7f, head[1]]);
    if version != VERSION {
        return Err(FrameError(format!(
            "unsupported SPDY version {version} (k2d speaks SPDY/3.1)"
        )));
    }
    let kind = u16::from_be_bytes([head[2], head[3]]);
    let p = &payload[..];
    let stream = || u32_at(p, 0).map(|s| s & 0x7fff_ffff);
    Ok(match kind {
        1 => {
            let block = p
                .get(10..)
                .ok_or_else(|| FrameError("SYN_STREAM too short".into()))?;
            Frame::SynStream {
                stream: stream()?,
                associated: u32_at(p, 4)? & 0x7fff_ffff,
                fin: flags & FLAG_FIN != 0,
                headers: decode_headers(&inflater.inflate(block)?)?,
            }
        }
        2 => Frame::SynReply {
            stream: stream()?,
            fin: flags & FLAG_FIN != 0,
            headers: decode_headers(&inflater.inflate(&p[4..])?)?,
        },
        3 => Frame::RstStream {
            stream: stream()?,
            status: u32_at(p, 4)?,
        },
        4 => Frame::Settings,
        6 => Frame::Ping(u32_at(p, 0)?),
        7 => Frame::GoAway {
            last_stream: stream()?,
            status: u32_at(p, 4).unwrap_or(0),
        },
        8 => {
            // The block must still go through the inflater: the zlib stream is shared.
            let s = stream()?;
            inflater.inflate(&p[4..])?;
            Frame::Headers { stream: s }
        }
        9 => Frame::WindowUpdate,
        other => {
            return Err(FrameError(format!(
                "unknown SPDY control frame type {other}"
            )));
        }
    })
}

fn control(out: &mut BytesMut, kind: u16, flags: u8, payload: &[u8]) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(kind);
    out.put_u32(((flags as u32) << 24) | payload.len() as u32);
    out.put_slice(payload);
}

/// Encodes a frame onto `out`. Data larger than a frame carries is split.
pub fn encode(frame: &Frame, deflater: &mut Deflater, out: &mut BytesMut) {
    match frame {
        Frame::Data { stream, fin, data } => {
            let mut chunks = data.chunks(MAX_PAYLOAD).peekable();
            if chunks.peek().is_none() {
                out.put_u32(stream & 0x7fff_ffff);
                out.put_u32(if *fin { (FLAG_FIN as u32) << 24 } else { 0 });
            }
            while let Some(c) = chunks.next() {
                let last = chunks.peek().is_none();
                let flags = if *fin && last { FLAG_FIN } else { 0 };
                out.put_u32(stream & 0x7fff_ffff);
                out.put_u32(((flags as u32) << 24) | c.len() as u32);
                out.put_slice(c);
            }
        }
        Frame::SynStream {
            stream,
            associated,
            fin,
            headers,
        } => {
            let mut p = BytesMut::new();
            p.put_u32(*stream);
            p.put_u32(*associated);
            p.put_u16(0);
            p.put_slice(&deflater.deflate(&encode_headers(headers)));
            control(out, 1, if *fin { FLAG_FIN } else { 0 }, &p);
        }
        Frame::SynReply {
            stream,
            fin,
            headers,
        } => {
            let mut p = BytesMut::new();
            p.put_u32(*stream);
            p.put_slice(&deflater.deflate(&encode_headers(headers)));
            control(out, 2, if *fin { FLAG_FIN } else { 0 }, &p);
        }
        Frame::RstStream { stream, status } => {
            let mut p = [0u8; 8];
            p[..4].copy_from_slice(&stream.to_be_bytes());
            p[4..].copy_from_slice(&status.to_be_bytes());
            control(out, 3, 0, &p);
        }
        Frame::Settings => control(out, 4, 0, &0u32.to_be_bytes()),
        Frame::Ping(id) => control(out, 6, 0, &id.to_be_bytes()),
        Frame::GoAway {
            last_stream,
            status,
        } => {
            let mut p = [0u8; 8];
            p[..4].copy_from_slice(&last_stream.to_be_bytes());
            p[4..].copy_from_slice(&status.to_be_bytes());
            control(out, 7, 0, &p);
        }
        Frame::Headers { stream } => {
            let mut p = BytesMut::new();
            p.put_u32(*stream);
            p.put_slice(&deflater.deflate(&encode_headers(&Vec::new())));
            control(out, 8, 0, &p);
        }
        Frame::WindowUpdate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(frames: &[Frame]) -> Vec<Frame> {
        let (mut d, mut i) = (Deflater::default(), Inflater::default());
        let mut wire = BytesMut::new();
        for f in frames {
            encode(f, &mut d, &mut wire);
        }
        let mut got = Vec::new();
        let mut wire = wire.freeze();
        while !wire.is_empty() {
            let head: [u8; 8] = wire[..8].try_into().unwrap();
            let n = payload_len(&head);
            let payload = wire.slice(8..8 + n);
            wire = wire.slice(8 + n..);
            got.push(decode(&head, payload, &mut i).unwrap());
        }
        got
    }

    #[test]
    fn frames_survive_encoding() {
        let frames = vec![
            Frame::SynStream {
                stream: 1,
                associated: 0,
                fin: false,
                headers: vec![
                    ("streamtype".into(), "error".into()),
                    ("port".into(), "80".into()),
                    ("requestid".into(), "0".into()),
                ],
            },
            // A second block on the same zlib stream (no dictionary header this time).
            Frame::SynStream {
                stream: 3,
                associated: 0,
                fin: true,
                headers: vec![("streamtype".into(), "data".into())],
            },
            Frame::SynReply {
                stream: 3,
                fin: false,
                headers: vec![],
            },
            Frame::Data {
                stream: 3,
                fin: true,
                data: Bytes::from_static(b"GET / HTTP/1.0\r\n\r\n"),
            },
            Frame::Data {
                stream: 5,
                fin: true,
                data: Bytes::new(),
            },
            Frame::RstStream {
                stream: 3,
                status: 5,
            },
            Frame::Ping(7),
            Frame::GoAway {
                last_stream: 3,
                status: 0,
            },
        ];
        assert_eq!(roundtrip(&frames), frames);
    }

    #[test]
    fn data_frames_have_the_documented_layout() {
        let mut out = BytesMut::new();
        let frame = Frame::Data {
            stream: 5,
            fin: true,
            data: Bytes::from_static(b"hi"),
        };
        encode(&frame, &mut Deflater::default(), &mut out);
        assert_eq!(&out[..], &[0, 0, 0, 5, 1, 0, 0, 2, b'h', b'i']);
    }

    #[test]
    fn control_header_layout_and_ping() {
        let mut out = BytesMut::new();
        encode(&Frame::Ping(9), &mut Deflater::default(), &mut out);
        assert_eq!(&out[..], &[0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 9]);
    }

    #[test]
    fn header_blocks_use_the_spdy_dictionary() {
        // A zlib stream with a preset dictionary sets FDICT and names the dictionary's Adler-32.
        let block = Deflater::default().deflate(&encode_headers(&vec![("a".into(), "b".into())]));
        assert_eq!(block[1] & 0x20, 0x20, "FDICT set");
        let adler = u32::from_be_bytes([block[2], block[3], block[4], block[5]]);
        let (mut a, mut b) = (1u32, 0u32);
        for byte in dictionary() {
            a = (a + *byte as u32) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler, (b << 16) | a);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut i = Inflater::default();
        let head = [0x80, 3, 0, 1, 0, 0, 0, 12];
        let payload = Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xde, 0xad]);
        assert!(decode(&head, payload, &mut i).is_err());
        let head = [0x80, 2, 0, 1, 0, 0, 0, 0];
        assert!(decode(&head, Bytes::new(), &mut Inflater::default()).is_err());
        let head = [0x80, 3, 0, 3, 0, 0, 0, 0];
        assert!(decode(&head, Bytes::new(), &mut Inflater::default()).is_err());
        assert!(decode_headers(&[0, 0, 0, 2, 0, 0, 0, 9, b'x']).is_err());
    }
}
