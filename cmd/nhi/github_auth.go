package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/nhi-audit/nhi/audit"
	ghconn "github.com/nhi-audit/nhi/connectors/github"
)

// githubAuth is how a command reaches GitHub: the API URL and either a
// GitHub App's key or a token found as gh users expect (githubToken).
// nhi snapshot github and nhi people sync github take the same flags.
type githubAuth struct {
	apiURL, appKey      string
	appID, installation int64
}

func (g *githubAuth) addFlags(f *pflag.FlagSet) {
	f.StringVar(&g.apiURL, "api-url", "", "REST API base URL (default https://api.github.com/)")
	f.Int64Var(&g.appID, "app-id", 0, "authenticate as this GitHub App (needs --app-key)")
	f.StringVar(&g.appKey, "app-key", "", "the GitHub App's private key (PEM file); read, never stored")
	f.Int64Var(&g.installation, "installation-id", 0, "the App's installation on the organisation (default: looked up)")
}

// check says what is wrong with the flags as given, before anything is
// read or created: a mistyped URL leaves no evidence file behind.
func (g *githubAuth) check() error {
	switch {
	case g.appKey != "" && g.appID == 0:
		return errors.New("--app-key needs --app-id")
	case g.appID != 0 && g.appKey == "":
		return errors.New("--app-id needs --app-key (the App's private key, a .pem file)")
	case g.installation != 0 && g.appID == 0:
		return errors.New("--installation-id needs --app-id and --app-key")
	}
	if g.apiURL != "" {
		return ghconn.CheckAPIURL(g.apiURL)
	}
	return nil
}

// appKeyForm is what --app-key takes, said when it is given something else.
const appKeyForm = "give the GitHub App's private key file as its settings page downloads it (NAME.DATE.private-key.pem, beginning -----BEGIN RSA PRIVATE KEY-----)"

// options gives the connector's API URL and credential: the App's key,
// read from its file, or a token. Neither is ever stored.
func (g *githubAuth) options(ctx context.Context) (ghconn.Options, error) {
	opts := ghconn.Options{APIURL: g.apiURL}
	if g.appID != 0 {
		// Read as every input file is (a missing file or a folder exits
		// 2, named with its flag), and refused as one when it is no PEM
		// at all, before anything is asked of GitHub.
		pemBytes, err := readInputFile("--app-key", g.appKey, "PEM text", appKeyForm)
		if err != nil {
			return opts, err
		}
		if b, _ := pem.Decode(pemBytes); b == nil {
			return opts, &inputError{fmt.Sprintf("--app-key: %s is not a PEM private key: %s", audit.Printable(g.appKey), appKeyForm), true}
		}
		opts.App = &ghconn.AppAuth{AppID: g.appID, PrivateKey: pemBytes, InstallationID: g.installation}
		return opts, nil
	}
	token, err := githubToken(ctx)
	if err != nil {
		return opts, err
	}
	opts.Token = token
	return opts, nil
}
