package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The chain alone cannot show a rewrite of the whole log: whoever edits an
// event can recompute every hash after it. A head written down outside
// the file (a ticket, an e-mail, an exported report's manifest.json) can:
// the log still extends it only if the event with that sequence number
// still has that hash. See docs/verify.md.

// Head is a point of the event log: event Seq had hash Hash. Seq 0 means
// "wherever that hash is".
type Head struct {
	Seq  int64
	Hash string
}

// String is the pasteable form, SEQ:HASH, that ParseHead reads.
func (h Head) String() string {
	if h.Seq == 0 {
		return h.Hash
	}
	return fmt.Sprintf("%d:%s", h.Seq, h.Hash)
}

var headPattern = regexp.MustCompile(`(?:\b(\d+):)?\b([0-9a-fA-F]{64})\b`)

// ParseHead reads a head from text: SEQ:HASH (what `nhi log head` prints),
// a bare HASH, a line or file holding one of those, or an exported
// bundle's manifest.json (its event_log_head).
func ParseHead(text string) (Head, error) {
	var manifest struct {
		Head *struct {
			Seq  int64  `json:"seq"`
			Hash string `json:"hash"`
		} `json:"event_log_head"`
	}
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") {
		if err := json.Unmarshal([]byte(t), &manifest); err != nil || manifest.Head == nil {
			return Head{}, errors.New("the JSON holds no event_log_head: pass an exported bundle's manifest.json, or the line `nhi log head` printed")
		}
		text = fmt.Sprintf("%d:%s", manifest.Head.Seq, manifest.Head.Hash)
	}
	m := headPattern.FindAllStringSubmatch(text, -1)
	switch {
	case len(m) == 0:
		return Head{}, errors.New("no event log head in it: expected SEQ:HASH as `nhi log head` prints it (a 64-digit hex hash, optionally after the event number and a colon)")
	case len(m) > 1 && m[0][0] != m[1][0]:
		return Head{}, fmt.Errorf("it holds %d different hashes; pass the one head to check", len(m))
	}
	h := Head{Hash: strings.ToLower(m[0][2])}
	if m[0][1] != "" {
		seq, err := strconv.ParseInt(m[0][1], 10, 64)
		if err != nil || seq < 1 {
			return Head{}, fmt.Errorf("event number %q is not a positive number", m[0][1])
		}
		h.Seq = seq
	}
	return h, nil
}

// CheckHead reports, as a problem to add to a VerifyResult, whether the
// log no longer extends h: "" when event h.Seq (or some event, without a
// Seq) still has hash h.Hash. Only meaningful once Verify found the chain
// intact: then every event up to it is the one there was when h was
// written down.
func (s *Store) CheckHead(ctx context.Context, h Head) (string, error) {
	if h.Seq == 0 {
		_, err := s.eventWhere(ctx, `WHERE hash = ?`, h.Hash)
		if errors.Is(err, ErrNoEvent) {
			return fmt.Sprintf("anchored head: no event of the log has hash %s: the log was rewritten, or it is another evidence file", h.Hash), nil
		}
		return "", err
	}
	e, err := s.EventAt(ctx, h.Seq)
	switch {
	case errors.Is(err, ErrNoEvent):
		return fmt.Sprintf("anchored head: the log has no event %d, which had hash %s: the log was truncated or rewritten, or it is another evidence file", h.Seq, h.Hash), nil
	case err != nil:
		return "", err
	case e.Hash != h.Hash:
		return fmt.Sprintf("anchored head: event %d (%s by %s at %s) has hash %s, but the head recorded earlier says %s: the log was rewritten at or before event %d",
			e.Seq, e.Type, Printable(e.Actor), e.At.Format(eventTimeLayout), e.Hash, h.Hash, h.Seq), nil
	}
	return "", nil
}
