//! Emits the conversion table (`crate::conversions::CONVERSIONS`): for every
//! kind served in more than one version, whether each non-storage version
//! converts by rewriting `apiVersion` or needs a hand-written hook.

use proc_macro2::TokenStream;
use quote::quote;

use crate::conversion::KindVersions;

/// The `conversions` module of the generated crate.
pub fn tokens(kinds: &[KindVersions]) -> TokenStream {
    let entries = kinds.iter().map(|k| {
        let (group, kind, storage) = (&k.group, &k.kind, &k.storage_version);
        let versions = &k.versions;
        let hook = k.hook_name();
        let conversions = k.conversions.iter().map(|c| {
            let version = &c.version;
            let conversion = if c.is_identical() {
                quote!(Conversion::Identical)
            } else {
                let differences = c
                    .differences
                    .iter()
                    .map(|d| d.describe(&c.version, &k.storage_version));
                quote!(Conversion::Hook { name: #hook, differences: &[#(#differences),*] })
            };
            quote!(VersionConversion { version: #version, conversion: #conversion })
        });
        quote! {
            KindConversions {
                group: #group,
                kind: #kind,
                storage_version: #storage,
                versions: &[#(#versions),*],
                conversions: &[#(#conversions),*],
            }
        }
    });
    quote! {
        #![doc = " How each kind served in more than one version converts between them."]
        use crate::support::conversion::{Conversion, KindConversions, VersionConversion};

        /// Every kind served in more than one version, sorted by group and kind.
        pub static CONVERSIONS: &[KindConversions] = &[#(#entries),*];

        /// The conversions of `kind` in `group`; `None` when the kind is
        /// served in one version only (or not at all).
        pub fn kind_conversions(group: &str, kind: &str) -> Option<&'static KindConversions> {
            CONVERSIONS
                .binary_search_by(|k| (k.group, k.kind).cmp(&(group, kind)))
                .ok()
                .map(|i| &CONVERSIONS[i])
        }
    }
}
