"""The facts of a trust setting (a trust-config component): one written in code or a script, or a CA setting of a
run context that the trust stage linked to the store it names."""

from __future__ import annotations

from typing import Any

from auditor.facts.client_trust import CLIENT_TRUST_KEYS, ClientTrust
from auditor.records import record


@record
class SettingFacts:
    """A setting that moves or turns off a client's trust. One found in code or a script
    (auditor.collect.config.trust_config) has `call` and `service` where the code says them; a setting of a run
    context (auditor.trust.resolve) says who reads it, the contexts it is set for, and whether the file it names is
    the OS's own bundle."""

    setting: str  # "verify", "--ca-bundle", "AWS_CA_BUNDLE", "ca_bundle [default]" …
    effect: str  # disabled | custom-bundle | adds-bundle | unknown
    found_in: str  # python | script | environment | config file | systemd unit | crontab | /etc/environment …
    statement: str
    value: str | None = None
    call: str | None = None  # code: the SDK call or os.environ that takes the setting
    service: str | None = None  # code: the service the client is made for
    read_by: str | None = None  # a run context's setting: the clients that read it (None for code and scripts)
    set_for: tuple[str, ...] = ()  # the labelled run contexts it is set for, as shown (a long list cut short)
    points_to_os_store: bool | None = None  # the file it names is the OS's default store (None: it names none)
    # Found first in the scan's own context, which has no label: the contexts that share it were met after its store
    # was linked, and reports have always listed them last.
    set_for_last: bool = False
    # A CA variable: the AWS clients the scan found that read it (auditor.trust.variable_readers); () when none does,
    # None for a setting that is not such a variable.
    read_by_found: tuple[str, ...] | None = None

    def to_details(self) -> dict[str, Any]:
        return self.details_with(None)

    def details_with(self, trust: ClientTrust | None) -> dict[str, Any]:
        """The JSON details, with the keys of the store the setting names where reports have always had them
        (after its value)."""
        details: dict[str, Any] = {"setting": self.setting, "effect": self.effect}
        if self.read_by is None:
            details.update(found_in=self.found_in, statement=self.statement)
            if self.call is not None:
                details["call"] = self.call
            if self.service is not None:
                details["service"] = self.service
            if self.value is not None:
                details["value"] = self.value
            return details
        details.update(read_by=self.read_by)
        if self.read_by_found is not None:
            details["read_by_found"] = list(self.read_by_found)
        details.update(statement=self.statement, found_in=self.found_in)
        if self.set_for and not self.set_for_last:
            details["set_for"] = list(self.set_for)
        if self.value is not None:
            details["value"] = self.value
        if trust is not None:
            details.update(trust.to_details())
        if self.points_to_os_store is not None:
            details["points_to_os_store"] = self.points_to_os_store
        if self.set_for and self.set_for_last:
            details["set_for"] = list(self.set_for)
        return details

    @classmethod
    def from_details(cls, details: dict[str, Any]) -> SettingFacts:
        keys = [k for k in details if k not in CLIENT_TRUST_KEYS]
        last = bool(keys) and keys[-1] == "set_for" and "points_to_os_store" in details
        return cls(details["setting"], details["effect"], details["found_in"], details["statement"],
                   details.get("value"), details.get("call"), details.get("service"), details.get("read_by"),
                   tuple(details.get("set_for", ())), details.get("points_to_os_store"), last,
                   None if details.get("read_by_found") is None else tuple(details["read_by_found"]))
