package tui

import (
	"context"
	"errors"
	"strings"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// Offboarding in the UI (docs/offboarding.md): the person: filter term.

// personRelater is the part of the store that answers person: terms;
// *audit.Store has it.
type personRelater interface {
	PersonRelated(ctx context.Context, names []string) (func(filter.Subject, string) bool, error)
}

var _ personRelater = (*audit.Store)(nil)

// personRelated resolves f's person: terms against the directory and the
// evidence (who had admin access where): nil when f has none. It reads
// the directory and the principals of the people named, two small
// queries, when the filter is set.
func (s *state) personRelated(f *filter.Filter) (func(filter.Subject, string) bool, error) {
	people := f.People()
	if len(people) == 0 {
		return nil, nil
	}
	pr, ok := s.store.(personRelater)
	if !ok || s.store == nil {
		return nil, errors.New("person:" + strings.Join(people, ", person:") + " needs the evidence file's directory of people, which this session cannot read")
	}
	return pr.PersonRelated(s.ctx, people)
}
