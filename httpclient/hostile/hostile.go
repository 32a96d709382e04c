// Package hostile is a test helper: HTTP handlers that behave like a hostile or broken server
// (headers at once, then the body one byte at a time), to prove every exchange is bounded.
package hostile

import (
	"net/http"
	"time"
)

// Drip answers status with the given headers at once, then writes body one byte every
// `every`, repeating the body forever (a server that never finishes), until the client goes
// away. Content-Length is never set, so the client cannot know the end.
func Drip(status int, header http.Header, body []byte, every time.Duration) http.Handler {
	if len(body) == 0 {
		body = []byte(" ")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		fl, _ := w.(http.Flusher)
		if fl != nil {
			fl.Flush()
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
			}
			if _, err := w.Write(body[i%len(body) : i%len(body)+1]); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	})
}
