package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/directory"
	"github.com/kurodenwa/kurodenwa/internal/mantela"
)

type fakeDirectory struct{}

func (fakeDirectory) Status() directory.Status {
	return directory.Status{Identifier: "me", Problems: []directory.Problem{{URL: "https://x/m.json", ReferencedBy: []string{"start URL"}, Error: "HTTP 404 Not Found"}}}
}

func (fakeDirectory) Routes(to, ext, model string) (directory.RouteReport, error) {
	switch to {
	case "0300":
		return directory.RouteReport{To: to, Extension: ext, CostModel: model, Best: directory.PathReport{Number: "7193" + ext, Trunk: "peer-b"}}, nil
	case "0150":
		return directory.RouteReport{}, fmt.Errorf("x: %w", mantela.ErrAmbiguousExchange)
	case "0999":
		return directory.RouteReport{}, fmt.Errorf("x: %w", mantela.ErrUnknownExchange)
	}
	return directory.RouteReport{}, fmt.Errorf("x: %w", mantela.ErrNotDialable)
}

func TestMantelaEndpoints(t *testing.T) {
	src := func(context.Context) (Snapshot, error) { return fixture(), nil }
	api := New(src, Health{Started: time.Now()}, NewMetrics(src, stream{}))
	doc := &mantela.Document{Version: "0.1.0", AboutMe: mantela.AboutMe{Name: "Home", Identifier: "me"}}
	h, err := MantelaDocument(doc)
	require.NoError(t, err)
	api.Handle("GET "+MantelaPath, h)
	api.Handle("GET /mantela/status", MantelaStatus(fakeDirectory{}))
	api.Handle("GET /routes", Routes(fakeDirectory{}))
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + MantelaPath)
	require.NoError(t, err)
	var got mantela.Document
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	resp.Body.Close()
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "me", got.AboutMe.Identifier)
	assert.Equal(t, []mantela.Extension{}, got.Extensions, "required lists are written empty")

	code, body := get(t, srv.URL+"/mantela/status")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"referenced_by": [`)
	assert.Contains(t, body, "HTTP 404 Not Found")

	tests := []struct {
		query string
		code  int
		body  string
	}{
		{"?to=0300&ext=100&model=pulse10", http.StatusOK, `"number": "7193100"`},
		{"?to=0300", http.StatusBadRequest, "give to="},
		{"?ext=100", http.StatusBadRequest, "give to="},
		{"?to=0150&ext=1", http.StatusConflict, "ambiguous"},
		{"?to=0999&ext=1", http.StatusNotFound, "unknown exchange"},
		{"?to=0300x&ext=1&model=rotary", http.StatusBadRequest, "not dialable"},
	}
	for _, tt := range tests {
		code, body := get(t, srv.URL+"/routes"+tt.query)
		assert.Equal(t, tt.code, code, tt.query)
		assert.Contains(t, body, tt.body, tt.query)
	}

	_, err = MantelaDocument(&mantela.Document{AboutMe: mantela.AboutMe{GeolocationCoordinates: &mantela.Geolocation{Latitude: math.NaN()}}})
	assert.Error(t, err, "a document that cannot be marshalled is refused up front")
}
