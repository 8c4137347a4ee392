package bot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// bufferedBodies sends every request body with a known length.
// go-telegram/bot streams its multipart bodies through a pipe, so net/http
// sends them chunked, and it flushes the connection after every chunk: a
// sendMessage cost a dozen write system calls, the largest single cost of
// an update. Read into a buffer first, a request goes out in one write
// with its headers.
type bufferedBodies struct {
	next http.RoundTripper
}

var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (t bufferedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength > 0 {
		return t.next.RoundTrip(req)
	}
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := io.Copy(buf, req.Body)
	req.Body.Close()
	if err != nil {
		bodyBufs.Put(buf)
		return nil, fmt.Errorf("read request body: %w", err)
	}
	// The buffer goes back to the pool only once the transport is done
	// with the body, which it signals by closing it.
	body := &pooledBody{Reader: bytes.NewReader(buf.Bytes()), buf: buf}
	r := req.Clone(req.Context())
	r.Body, r.ContentLength = body, int64(buf.Len())
	r.GetBody = nil
	return t.next.RoundTrip(r)
}

type pooledBody struct {
	*bytes.Reader
	buf  *bytes.Buffer
	once sync.Once
}

func (b *pooledBody) Close() error {
	b.once.Do(func() {
		if b.buf.Cap() <= 64<<10 { // photos are not kept around
			bodyBufs.Put(b.buf)
		}
	})
	return nil
}
