package encrypt

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Streams seal a whole byte stream (a backend's snapshot) in chunks:
//
//	header: "cxencs1:" <key id> ":" <16-byte random salt>
//	chunk:  <4-byte big-endian length, top bit set on the last chunk>
//	        <12-byte nonce> <AES-GCM ciphertext of up to 64 KiB>
//
// Each chunk's additional data is context, the salt, the chunk's index and
// its last-chunk flag, so chunks cannot be reordered, dropped, moved between
// streams, or the stream cut short without Read failing with ErrDecrypt.

const (
	streamPrefix = "cxencs1:"
	saltSize     = 16
	chunkSize    = 64 << 10
	lastFlag     = 1 << 31
)

// IsEncryptedStream reports whether data begins with a sealed stream header.
func IsEncryptedStream(data []byte) bool { return bytes.HasPrefix(data, []byte(streamPrefix)) }

func chunkAAD(context, salt []byte, index uint64, last bool) []byte {
	aad := make([]byte, 0, len(context)+len(salt)+9)
	aad = append(aad, context...)
	aad = append(aad, salt...)
	aad = binary.BigEndian.AppendUint64(aad, index)
	if last {
		return append(aad, 1)
	}
	return append(aad, 0)
}

// Writer seals what is written to it into an underlying writer. Close
// writes the last chunk; without it the stream does not open.
type Writer struct {
	w       io.Writer
	aead    cipher.AEAD
	context []byte
	salt    []byte
	buf     []byte
	index   uint64
	err     error
	closed  bool
}

// NewWriter starts a sealed stream on w with the primary key, bound to
// context (e.g. "memstore-snapshot").
func (t *Transformer) NewWriter(w io.Writer, context []byte) (*Writer, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("encrypt stream: %w", err)
	}
	head := append([]byte(streamPrefix+t.primary+":"), salt...)
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("encrypt stream: %w", err)
	}
	return &Writer{w: w, aead: t.aeads[t.primary], context: bytes.Clone(context), salt: salt, buf: make([]byte, 0, chunkSize)}, nil
}

// Write buffers p and seals every full chunk.
func (sw *Writer) Write(p []byte) (int, error) {
	if sw.err != nil {
		return 0, sw.err
	}
	if sw.closed {
		return 0, fmt.Errorf("encrypt stream: write after close")
	}
	n := 0
	for len(p) > 0 {
		k := min(chunkSize-len(sw.buf), len(p))
		sw.buf = append(sw.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(sw.buf) == chunkSize {
			if err := sw.flush(false); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (sw *Writer) flush(last bool) error {
	nonce := make([]byte, sw.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		sw.err = fmt.Errorf("encrypt stream: %w", err)
		return sw.err
	}
	ct := sw.aead.Seal(nil, nonce, sw.buf, chunkAAD(sw.context, sw.salt, sw.index, last))
	length := uint32(len(nonce) + len(ct))
	if last {
		length |= lastFlag
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(nonce)+len(ct)), length)
	frame = append(append(frame, nonce...), ct...)
	if _, err := sw.w.Write(frame); err != nil {
		sw.err = fmt.Errorf("encrypt stream: %w", err)
		return sw.err
	}
	clear(sw.buf)
	sw.buf = sw.buf[:0]
	sw.index++
	return nil
}

// Close seals the buffered rest as the last chunk. It does not close the
// underlying writer.
func (sw *Writer) Close() error {
	if sw.closed {
		return sw.err
	}
	sw.closed = true
	if sw.err != nil {
		return sw.err
	}
	return sw.flush(true)
}

// Reader opens a sealed stream.
type Reader struct {
	r       *bufio.Reader
	t       *Transformer
	aead    cipher.AEAD
	context []byte
	salt    []byte
	index   uint64
	plain   []byte
	done    bool
	err     error
}

// NewReader opens a stream sealed by a Writer with any configured key. The
// header is read lazily, on the first Read.
func (t *Transformer) NewReader(r io.Reader, context []byte) *Reader {
	return &Reader{r: bufio.NewReader(r), t: t, context: bytes.Clone(context)}
}

func (sr *Reader) header() error {
	prefix := make([]byte, len(streamPrefix))
	if _, err := io.ReadFull(sr.r, prefix); err != nil || string(prefix) != streamPrefix {
		return fmt.Errorf("decrypt stream: no stream header: %w", ErrNotEncrypted)
	}
	id, err := sr.r.ReadString(':')
	if err != nil || len(id) < 2 || len(id) > 65 {
		return fmt.Errorf("decrypt stream: malformed header: %w", ErrDecrypt)
	}
	id = id[:len(id)-1]
	aead, ok := sr.t.aeads[id]
	if !ok {
		return fmt.Errorf("decrypt stream: key %q: %w", id, ErrUnknownKey)
	}
	sr.aead = aead
	sr.salt = make([]byte, saltSize)
	if _, err := io.ReadFull(sr.r, sr.salt); err != nil {
		return fmt.Errorf("decrypt stream: truncated header: %w", ErrDecrypt)
	}
	return nil
}

// Read returns opened bytes. A tampered, reordered or truncated stream
// fails with ErrDecrypt; a clean end after the last chunk is io.EOF.
func (sr *Reader) Read(p []byte) (int, error) {
	for len(sr.plain) == 0 {
		if sr.err != nil {
			return 0, sr.err
		}
		if sr.done {
			return 0, io.EOF
		}
		sr.err = sr.next()
	}
	n := copy(p, sr.plain)
	sr.plain = sr.plain[n:]
	return n, nil
}

func (sr *Reader) next() error {
	if sr.aead == nil {
		if err := sr.header(); err != nil {
			return err
		}
	}
	var lenBuf [4]byte
	if _, err := io.ReadFull(sr.r, lenBuf[:]); err != nil {
		return fmt.Errorf("decrypt stream: truncated before the last chunk: %w", ErrDecrypt)
	}
	length := binary.BigEndian.Uint32(lenBuf[:])
	last := length&lastFlag != 0
	length &^= lastFlag
	ns := sr.aead.NonceSize()
	if length < uint32(ns+sr.aead.Overhead()) || length > uint32(ns+chunkSize+sr.aead.Overhead()) {
		return fmt.Errorf("decrypt stream: bad chunk length %d: %w", length, ErrDecrypt)
	}
	frame := make([]byte, length)
	if _, err := io.ReadFull(sr.r, frame); err != nil {
		return fmt.Errorf("decrypt stream: truncated chunk: %w", ErrDecrypt)
	}
	plain, err := sr.aead.Open(nil, frame[:ns], frame[ns:], chunkAAD(sr.context, sr.salt, sr.index, last))
	if err != nil {
		return fmt.Errorf("decrypt stream: chunk %d: %w", sr.index, ErrDecrypt)
	}
	sr.index++
	sr.plain = plain
	if last {
		sr.done = true
		// Trailing bytes after the last chunk are not ours: refuse them.
		if _, err := sr.r.ReadByte(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("decrypt stream: data after the last chunk: %w", ErrDecrypt)
		}
	}
	return nil
}
