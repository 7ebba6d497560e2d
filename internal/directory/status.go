package directory

import "time"

// Status is what /mantela/status shows: how current the view is and every
// document that could not be used, with who referenced it and why.
type Status struct {
	Identifier string   `json:"identifier"`
	CostModel  string   `json:"cost_model"`
	StartURLs  []string `json:"start_urls"`
	// Refreshed is when the last walk ended; nil before the first.
	Refreshed *time.Time `json:"refreshed,omitempty"`
	// Exchanges counts the documents loaded, ours not included; FromCache
	// lists the URLs whose last good copy stood in.
	Exchanges int       `json:"exchanges"`
	FromCache []string  `json:"from_cache"`
	Problems  []Problem `json:"problems"`
}

// Problem is a document the walk could not use.
type Problem struct {
	URL          string   `json:"url"`
	ReferencedBy []string `json:"referenced_by"`
	Error        string   `json:"error"`
	UsedCache    bool     `json:"used_cache"`
}

// Status reports the current view.
func (d *Directory) Status() Status {
	v := d.view.Load()
	s := Status{
		Identifier: d.self.AboutMe.Identifier,
		CostModel:  d.model.String(),
		StartURLs:  append([]string{}, d.startURLs...),
		FromCache:  []string{},
		Problems:   []Problem{},
	}
	if v.network == nil {
		return s
	}
	refreshed := v.refreshed
	s.Refreshed = &refreshed
	for _, e := range v.network.List() {
		s.Exchanges++
		if e.FromCache {
			s.FromCache = append(s.FromCache, e.URL)
		}
	}
	for _, p := range v.network.Problems {
		refs := make([]string, len(p.ReferencedBy))
		for i, ref := range p.ReferencedBy {
			refs[i] = ref.String()
		}
		s.Problems = append(s.Problems, Problem{URL: p.URL, ReferencedBy: refs, Error: p.Err.Error(), UsedCache: p.UsedCache})
	}
	return s
}
