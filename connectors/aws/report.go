package aws

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// The credential report: generated, waited for, parsed, and matched to
// the keys ListAccessKeys lists.

// readReport generates the credential report, waits for it and parses
// it. It returns the action a denial came from.
func (c *Connector) readReport(ctx context.Context, client *iam.Client, a *account) (string, error) {
	deadline := time.Now().Add(c.opts.ReportTimeout)
	said := false
	var out *iam.GetCredentialReportOutput
	for out == nil {
		for {
			gen, err := client.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			var ae smithy.APIError
			if errors.As(err, &ae) && !credentialsFailed(err) && (ae.ErrorCode() == "LimitExceeded" || ae.ErrorCode() == "ServiceFailure") {
				// AWS would not make one now (too many generations at
				// once, or its own failure after the SDK's retries).
				return "", &reportUnavailable{"iam:GenerateCredentialReport", fmt.Sprintf("could not be generated (%s: %s)", ae.ErrorCode(), ae.ErrorMessage())}
			}
			if err != nil {
				return "iam:GenerateCredentialReport", err
			}
			if gen.State == types.ReportStateTypeComplete {
				break
			}
			if time.Now().After(deadline) {
				return "", nil
			}
			if !said {
				c.say("waiting for the credential report (%s)", strings.ToLower(string(gen.State)))
				said = true
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(c.opts.ReportPoll):
			}
		}
		var err error
		out, err = client.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		var ae smithy.APIError
		if errors.As(err, &ae) && !credentialsFailed(err) && reportGone[ae.ErrorCode()] != "" {
			// The report COMPLETE named is gone (it turned four hours old
			// in between) or not there yet: generate it again, in time.
			if time.Now().After(deadline) {
				return "", nil
			}
			c.say("the credential report was %s when read (%s); generating it again", reportGone[ae.ErrorCode()], ae.ErrorCode())
			out = nil
			continue
		}
		if err != nil {
			return "iam:GetCredentialReport", err
		}
	}
	rows, err := parseReport(out.Content)
	if err != nil {
		// AWS changed its format.
		return "", &reportUnavailable{"iam:GetCredentialReport", fmt.Sprintf("does not parse (%v)", err)}
	}
	a.report = rows
	return "", nil
}

// reportGone are GetCredentialReport's answers for a report that is not
// there to read, in words.
var reportGone = map[string]string{"ReportExpired": "expired", "ReportNotPresent": "gone", "ReportInProgress": "not ready"}

// reportUnavailable is a credential report AWS would not generate, or
// one that does not parse (not the columns or values nhi takes facts
// from): a gap at endpoint, saying why.
type reportUnavailable struct{ endpoint, why string }

func (e *reportUnavailable) Error() string { return "the credential report " + e.why }

// reportColumns are the columns of the credential report nhi takes facts
// from: without one of them, what the report says is not taken.
var reportColumns = []string{
	"user", "password_enabled", "password_last_used", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
}

// reportRow is one user's line of the credential report.
type reportRow struct {
	passwordEnabled  string // "true", "false"
	passwordLastUsed *time.Time
	mfa              string
	keys             [2]reportKey
}

type reportKey struct {
	present         bool
	active          bool
	rotated         *time.Time
	lastUsed        *time.Time
	region, service string
}

func parseReport(content []byte) (map[string]reportRow, error) {
	cr := csv.NewReader(bytes.NewReader(content))
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range reportColumns {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("no %s column", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	out := map[string]reportRow{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		user := get(rec, "user")
		if user == "<root_account>" {
			continue
		}
		// A date that is neither a date nor one of the report's words for
		// none is a format nhi does not know: not "never".
		var bad error
		date := func(name string) *time.Time {
			v := get(rec, name)
			t := reportTime(v)
			if t == nil && bad == nil {
				switch v {
				case "", "N/A", "no_information", "not_supported":
				default:
					bad = fmt.Errorf("%s of user %s is %q, not a date", name, user, v)
				}
			}
			return t
		}
		row := reportRow{passwordEnabled: get(rec, "password_enabled"), passwordLastUsed: date("password_last_used"), mfa: get(rec, "mfa_active")}
		for i := range 2 {
			p := fmt.Sprintf("access_key_%d_", i+1)
			k := reportKey{
				active: get(rec, p+"active") == "true", rotated: date(p + "last_rotated"),
				lastUsed: date(p + "last_used_date"), region: na(get(rec, p+"last_used_region")), service: na(get(rec, p+"last_used_service")),
			}
			k.present = k.rotated != nil
			row.keys[i] = k
		}
		if bad != nil {
			return nil, bad
		}
		out[user] = row
	}
}

func reportTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func na(s string) string {
	if s == "N/A" || s == "no_information" {
		return ""
	}
	return s
}

// matchReport takes each active key's use from the report's
// access_key_1/2 columns: the slot whose last_rotated is the key's
// creation. It returns the keys the report cannot speak for, to ask one by
// one: an inactive key (the report shows last_rotated N/A for it, so its
// slot cannot be told apart from an empty one), or one no slot matches. A
// slot is never taken by position: AWS serves a report for four hours, so
// a key made since (a rotation) would take the deleted key's use.
func matchReport(keys []key, row reportRow) []*key {
	slices.SortFunc(keys, func(x, y key) int { return x.created.Compare(y.created) })
	used := [2]bool{}
	var ask []*key
	idx := make([]int, 0, len(keys))
	for j := range keys {
		if keys[j].status != "Active" {
			idx = append(idx, j)
			continue
		}
		slot := -1
		for s := range 2 {
			if !used[s] && row.keys[s].active && row.keys[s].rotated != nil && row.keys[s].rotated.Equal(keys[j].created.Truncate(time.Second)) {
				slot = s
				break
			}
		}
		if slot < 0 {
			idx = append(idx, j)
			continue
		}
		used[slot] = true
		rk := row.keys[slot]
		keys[j].lastUsed, keys[j].service, keys[j].region = rk.lastUsed, rk.service, rk.region
	}
	for _, j := range idx {
		keys[j].lastUsedNotKnown = true
		ask = append(ask, &keys[j])
	}
	return ask
}
