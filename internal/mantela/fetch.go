package mantela

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultMaxFetchDepth bounds how many provider hops from a start URL
	// are followed; the community network is a few hops wide.
	DefaultMaxFetchDepth = 16
	// DefaultFetchTimeout bounds one document's request, connection
	// included.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultConcurrency bounds simultaneous requests; exchanges are
	// hobbyists' servers, often on home lines.
	DefaultConcurrency = 8
	// DefaultMaxDocuments bounds the walk so that documents listing ever new
	// URLs cannot make it endless.
	DefaultMaxDocuments = 10000
	// DefaultUserAgent identifies the fetcher to the exchanges' servers.
	DefaultUserAgent = "kurodenwa-mantela-fetcher/1"
	// maxReferences bounds how many referrers a problem report keeps.
	maxReferences = 8
)

var (
	// ErrDuplicateIdentifier reports a document whose identifier was already
	// loaded from another URL; the first one is kept.
	ErrDuplicateIdentifier = errors.New("identifier already loaded from another URL")
	// ErrIdentifierMismatch reports a URL whose document does not carry the
	// identifier the referring provider entry claims; the document is kept.
	ErrIdentifierMismatch = errors.New("document identifier differs from the provider entry")
	// ErrBadURL reports a provider's mantela URL that cannot be fetched.
	ErrBadURL = errors.New("unusable URL")
	// ErrDocumentLimit reports documents dropped because the walk reached
	// its document limit.
	ErrDocumentLimit = errors.New("document limit reached")
)

// StatusError reports an HTTP response other than 200 OK.
type StatusError struct {
	StatusCode int
	Status     string
}

func (e *StatusError) Error() string { return "HTTP " + e.Status }

// Fetcher walks the Mantela network breadth-first. It is safe for concurrent
// use; each Fetch is independent.
type Fetcher struct {
	client       *http.Client
	maxDepth     int
	fetchTimeout time.Duration
	maxBytes     int64
	concurrency  int
	maxDocuments int
	userAgent    string
	cache        *DiskCache
	logger       *slog.Logger
}

// FetcherOption configures a Fetcher.
type FetcherOption func(*Fetcher)

// WithHTTPClient sets the client; the default is a client without a global
// timeout, since every request carries the per-fetch deadline.
func WithHTTPClient(client *http.Client) FetcherOption {
	return func(f *Fetcher) {
		if client != nil {
			f.client = client
		}
	}
}

// WithMaxDepth sets how many provider hops from the start URLs are followed;
// 0 fetches only the start documents.
func WithMaxDepth(depth int) FetcherOption {
	return func(f *Fetcher) { f.maxDepth = max(depth, 0) }
}

// WithFetchTimeout bounds each document's request; non-positive values keep
// the default.
func WithFetchTimeout(timeout time.Duration) FetcherOption {
	return func(f *Fetcher) {
		if timeout > 0 {
			f.fetchTimeout = timeout
		}
	}
}

// WithMaxBytes bounds each response body and document; non-positive values
// keep the default.
func WithMaxBytes(limit int64) FetcherOption {
	return func(f *Fetcher) {
		if limit > 0 {
			f.maxBytes = limit
		}
	}
}

// WithConcurrency bounds simultaneous requests.
func WithConcurrency(limit int) FetcherOption {
	return func(f *Fetcher) { f.concurrency = max(limit, 1) }
}

// WithMaxDocuments bounds how many exchanges one walk loads.
func WithMaxDocuments(limit int) FetcherOption {
	return func(f *Fetcher) { f.maxDocuments = max(limit, 1) }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(userAgent string) FetcherOption {
	return func(f *Fetcher) { f.userAgent = userAgent }
}

// WithCache keeps good documents in cache and falls back to them when a
// fetch fails.
func WithCache(cache *DiskCache) FetcherOption {
	return func(f *Fetcher) { f.cache = cache }
}

// WithLogger sets the logger for events a caller cannot see in the result,
// such as a failure to write the cache.
func WithLogger(logger *slog.Logger) FetcherOption {
	return func(f *Fetcher) {
		if logger != nil {
			f.logger = logger
		}
	}
}

// NewFetcher returns a Fetcher with the defaults, changed by opts.
func NewFetcher(opts ...FetcherOption) *Fetcher {
	f := &Fetcher{
		client:       &http.Client{},
		maxDepth:     DefaultMaxFetchDepth,
		fetchTimeout: DefaultFetchTimeout,
		maxBytes:     DefaultMaxBytes,
		concurrency:  DefaultConcurrency,
		maxDocuments: DefaultMaxDocuments,
		userAgent:    DefaultUserAgent,
		logger:       slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(f)
	}
	return f
}

// Network is the result of a walk.
type Network struct {
	// Exchanges holds the loaded documents keyed by aboutMe.identifier.
	Exchanges map[string]*Exchange
	// Problems lists every URL that could not be used, or was used only
	// from the cache, in the order the walk met them.
	Problems []Problem
}

// Exchange is one loaded document and where it came from.
type Exchange struct {
	Document *Document
	// URL is the normalised URL the document was fetched from.
	URL string
	// Depth counts provider hops from the nearest start URL.
	Depth int
	// FromCache is set when the fetch failed and the cached copy, stored at
	// CachedAt, stood in.
	FromCache bool
	CachedAt  time.Time
}

// Reference is a provider entry (or a start URL) that led the walk to a URL.
type Reference struct {
	// Exchange and Name identify the referring exchange; both are empty for a
	// start URL.
	Exchange string
	Name     string
	// URL is the referring document's URL.
	URL string
	// Identifier is the identifier the provider entry claims for the target.
	Identifier string
}

func (r Reference) String() string {
	if r.Exchange == "" {
		return "start URL"
	}
	return fmt.Sprintf("%s (%s) at %s", r.Exchange, r.Name, r.URL)
}

// Problem is a URL the walk could not use as is.
type Problem struct {
	URL          string
	ReferencedBy []Reference
	Err          error
	// UsedCache is set when a cached copy replaced the failed fetch.
	UsedCache bool
}

func (p Problem) String() string {
	refs := make([]string, len(p.ReferencedBy))
	for i, ref := range p.ReferencedBy {
		refs[i] = ref.String()
	}
	s := fmt.Sprintf("%s (referenced by %s): %v", p.URL, strings.Join(refs, "; "), p.Err)
	if p.UsedCache {
		s += " [using cached copy]"
	}
	return s
}

// List returns the exchanges ordered by depth, then identifier.
func (n *Network) List() []*Exchange {
	list := make([]*Exchange, 0, len(n.Exchanges))
	for _, exchange := range n.Exchanges {
		list = append(list, exchange)
	}
	slices.SortFunc(list, func(a, b *Exchange) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.Document.AboutMe.Identifier, b.Document.AboutMe.Identifier))
	})
	return list
}

// Documents returns the documents in List order.
func (n *Network) Documents() []*Document {
	list := n.List()
	docs := make([]*Document, len(list))
	for i, exchange := range list {
		docs[i] = exchange.Document
	}
	return docs
}

// Graph builds the routing graph of the network.
func (n *Network) Graph() *Graph {
	return NewGraph(n.Documents())
}

// Edge is one provider entry between two different exchanges.
type Edge struct {
	From, To    string
	Prefix      string
	Unavailable bool
}

// Edges lists every provider entry except self entries, in List order and
// then document order. Unavailable entries and empty prefixes are included;
// routing is what skips them.
func (n *Network) Edges() []Edge {
	var edges []Edge
	for _, exchange := range n.List() {
		from := exchange.Document.AboutMe.Identifier
		for _, provider := range exchange.Document.Providers {
			if provider.Identifier == from {
				continue
			}
			edges = append(edges, Edge{From: from, To: provider.Identifier, Prefix: provider.Prefix, Unavailable: provider.Unavailable})
		}
	}
	return edges
}

// fetchJob is a URL to fetch and who asked for it.
type fetchJob struct {
	url  string
	refs []Reference
}

func (j *fetchJob) addReference(ref Reference) {
	if len(j.refs) < maxReferences {
		j.refs = append(j.refs, ref)
	}
}

// fetchResult is what one job produced: documents (possibly from the cache)
// and the problem to report, either of which may be empty.
type fetchResult struct {
	docs      []*Document
	err       error
	fromCache bool
	cachedAt  time.Time
}

// walk is the state of one Fetch.
type walk struct {
	network *Network
	// queued holds every URL ever queued, for de-duplication.
	queued map[string]*fetchJob
}

func (w *walk) report(job *fetchJob, err error, usedCache bool) {
	// Cloned because job.refs keeps growing while the walk goes on.
	w.network.Problems = append(w.network.Problems, Problem{URL: job.url, ReferencedBy: slices.Clone(job.refs), Err: err, UsedCache: usedCache})
}

// Fetch walks the network from startURLs. The walk proceeds level by level
// (all documents at depth d before any at d+1), so that which URL wins for an
// identifier does not depend on response timing. A document that cannot be
// fetched or parsed is reported in Network.Problems and never stops the walk.
// The error is non-nil only when ctx ends first; the network is then partial
// but still usable.
func (f *Fetcher) Fetch(ctx context.Context, startURLs ...string) (*Network, error) {
	w := &walk{
		network: &Network{Exchanges: make(map[string]*Exchange)},
		queued:  make(map[string]*fetchJob),
	}
	var level []*fetchJob
	for _, raw := range startURLs {
		start := &fetchJob{url: raw, refs: []Reference{{}}}
		normalised, err := normaliseURL(nil, raw)
		if err != nil {
			w.report(start, err, false)
			continue
		}
		if _, dup := w.queued[normalised]; dup {
			continue
		}
		start.url = normalised
		w.queued[normalised] = start
		level = append(level, start)
	}
	for depth := 0; len(level) > 0; depth++ {
		results := f.fetchLevel(ctx, level)
		if err := ctx.Err(); err != nil {
			return w.network, fmt.Errorf("mantela: fetch interrupted at depth %d: %w", depth, err)
		}
		var referrers []*Exchange
		for i, job := range level {
			referrers = append(referrers, w.register(job, results[i], depth, f.maxDocuments)...)
		}
		if depth >= f.maxDepth {
			break
		}
		// Providers are collected only after the whole level is registered,
		// so that an identifier loaded anywhere on this level is skipped.
		level = w.nextLevel(referrers)
	}
	return w.network, nil
}

// register adds the documents a job produced and returns the new exchanges.
func (w *walk) register(job *fetchJob, result fetchResult, depth, maxDocuments int) []*Exchange {
	if result.err != nil {
		w.report(job, result.err, result.fromCache && len(result.docs) > 0)
	}
	var added []*Exchange
	loaded := make(map[string]bool, len(result.docs))
	for _, doc := range result.docs {
		identifier := doc.AboutMe.Identifier
		loaded[identifier] = true
		if existing, dup := w.network.Exchanges[identifier]; dup {
			if existing.URL != job.url {
				w.report(job, fmt.Errorf("%w: %s from %s", ErrDuplicateIdentifier, identifier, existing.URL), false)
			}
			continue
		}
		if len(w.network.Exchanges) >= maxDocuments {
			w.report(job, fmt.Errorf("%w: %d; dropped %s", ErrDocumentLimit, maxDocuments, identifier), false)
			continue
		}
		exchange := &Exchange{Document: doc, URL: job.url, Depth: depth, FromCache: result.fromCache, CachedAt: result.cachedAt}
		w.network.Exchanges[identifier] = exchange
		added = append(added, exchange)
	}
	if len(result.docs) > 0 {
		for _, ref := range job.refs {
			if ref.Identifier != "" && !loaded[ref.Identifier] {
				w.report(&fetchJob{url: job.url, refs: []Reference{ref}},
					fmt.Errorf("%w: entry says %s", ErrIdentifierMismatch, ref.Identifier), false)
			}
		}
	}
	return added
}

// nextLevel queues the providers of the exchanges just loaded, skipping
// identifiers already loaded and URLs already queued.
func (w *walk) nextLevel(referrers []*Exchange) []*fetchJob {
	var next []*fetchJob
	for _, exchange := range referrers {
		doc := exchange.Document
		// exchange.URL was normalised, so it parses; were it not to, base
		// would be nil and relative URLs would be reported as unusable.
		base, _ := url.Parse(exchange.URL)
		for _, provider := range doc.Providers {
			if provider.Mantela == "" || provider.Identifier == doc.AboutMe.Identifier {
				continue
			}
			if _, loaded := w.network.Exchanges[provider.Identifier]; loaded {
				continue
			}
			ref := Reference{Exchange: doc.AboutMe.Identifier, Name: doc.AboutMe.Name, URL: exchange.URL, Identifier: provider.Identifier}
			target, err := normaliseURL(base, provider.Mantela)
			if err != nil {
				w.report(&fetchJob{url: provider.Mantela, refs: []Reference{ref}}, err, false)
				continue
			}
			if job, seen := w.queued[target]; seen {
				// Only jobs still to run benefit from another referrer;
				// adding to finished ones is harmless.
				job.addReference(ref)
				continue
			}
			job := &fetchJob{url: target, refs: []Reference{ref}}
			w.queued[target] = job
			next = append(next, job)
		}
	}
	return next
}

// normaliseURL resolves raw against base and keeps only http and https
// URLs, without fragment, so that equal URLs compare equal.
func normaliseURL(base *url.URL, raw string) (string, error) {
	parsed, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if base != nil {
		parsed = base.ResolveReference(parsed)
	}
	if parsed.Scheme != "http" && parsed.Scheme != "https" {
		return "", fmt.Errorf("%w: scheme %q is not http or https", ErrBadURL, parsed.Scheme)
	}
	if parsed.Host == "" {
		return "", fmt.Errorf("%w: no host", ErrBadURL)
	}
	parsed.Fragment = ""
	parsed.RawFragment = ""
	return parsed.String(), nil
}

// fetchLevel fetches the jobs with at most f.concurrency requests at a time.
// Results are in job order; jobs not started before ctx ended have zero
// results, which the caller discards along with the level.
func (f *Fetcher) fetchLevel(ctx context.Context, jobs []*fetchJob) []fetchResult {
	results := make([]fetchResult, len(jobs))
	indexes := make(chan int)
	var workers sync.WaitGroup
	for range min(f.concurrency, len(jobs)) {
		workers.Go(func() {
			for i := range indexes {
				results[i] = f.load(ctx, jobs[i].url)
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case indexes <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(indexes)
	workers.Wait()
	return results
}

// load fetches and parses one URL, falling back to the cache.
func (f *Fetcher) load(ctx context.Context, rawURL string) fetchResult {
	parser := Parser{MaxBytes: f.maxBytes}
	data, err := f.get(ctx, rawURL)
	if err == nil {
		docs, parseErr := parser.ParseAny(data, rawURL)
		if parseErr == nil {
			f.store(rawURL, data)
			return fetchResult{docs: docs}
		}
		if len(docs) > 0 {
			// A collection with some bad items: use the good ones, but keep
			// the cached copy, which may be complete.
			return fetchResult{docs: docs, err: parseErr}
		}
		err = parseErr
	}
	if f.cache == nil || ctx.Err() != nil {
		return fetchResult{err: err}
	}
	cached, cachedAt, cacheErr := f.cache.Load(rawURL)
	if cacheErr != nil {
		return fetchResult{err: err}
	}
	docs, cacheParseErr := parser.ParseAny(cached, rawURL+" (cached)")
	if len(docs) == 0 {
		return fetchResult{err: errors.Join(err, cacheParseErr)}
	}
	return fetchResult{docs: docs, err: err, fromCache: true, cachedAt: cachedAt}
}

func (f *Fetcher) store(rawURL string, data []byte) {
	if f.cache == nil {
		return
	}
	if err := f.cache.Store(rawURL, data); err != nil {
		f.logger.Warn("mantela: cannot cache document", slog.String("url", rawURL), slog.Any("error", err))
	}
}

// get performs one bounded GET.
func (f *Fetcher) get(ctx context.Context, rawURL string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", f.userAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > f.maxBytes {
		return nil, fmt.Errorf("%w: Content-Length %d, limit %d", ErrTooLarge, resp.ContentLength, f.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > f.maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.maxBytes)
	}
	return data, nil
}
