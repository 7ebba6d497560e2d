package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/kurodenwa/kurodenwa/internal/directory"
	"github.com/kurodenwa/kurodenwa/internal/mantela"
)

// MantelaPath is where exchanges look for a document by convention.
const MantelaPath = "/.well-known/mantela.json"

// MantelaDocument serves this exchange's own document (GET MantelaPath).
// It is marshalled once: the document changes only with the site file,
// which a restart reloads.
func MantelaDocument(doc *mantela.Document) (http.Handler, error) {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("httpapi: mantela.json: %w", err)
	}
	data = append(data, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		// Community viewers fetch documents from the browser.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(data)
	}), nil
}

// Directory is what the Mantela endpoints read.
type Directory interface {
	Status() directory.Status
	Routes(to, extension, model string) (directory.RouteReport, error)
}

// MantelaStatus serves GET /mantela/status: when the network was last
// walked and every document that could not be used, with who referenced it
// and why.
func MantelaStatus(d Directory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, d.Status())
	})
}

// Routes serves GET /routes?to=<identifier or preferred prefix>&ext=<extension>[&model=push|pulse10|pulse20|hops]:
// the number a caller here dials, the peer it goes to, and the
// alternatives through the other peers.
func Routes(d Directory) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		to, ext := q.Get("to"), q.Get("ext")
		if to == "" || ext == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "give to=<identifier or preferred prefix> and ext=<extension>"})
			return
		}
		report, err := d.Routes(to, ext, q.Get("model"))
		if err != nil {
			writeJSON(w, routeErrorStatus(err), map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, report)
	})
}

func routeErrorStatus(err error) int {
	switch {
	case errors.Is(err, mantela.ErrNotDialable):
		return http.StatusBadRequest
	case errors.Is(err, mantela.ErrAmbiguousExchange):
		return http.StatusConflict
	default: // unknown, unavailable or unreachable exchange
		return http.StatusNotFound
	}
}
