"""Riposte's moto_server: moto's own server, with Security Hub operations moto 5.2.1 lacks.

Run by the interpreter that has moto (``python moto_riposte.py -H 127.0.0.1 -p 5000``,
the same arguments as ``moto_server``). Before the server starts, it adds to moto's
``moto.securityhub`` package, in place:

- ``BatchUpdateFindings`` (``PATCH /findings/batchupdate``);
- ``BatchUpdateFindingsV2`` (``PATCH /findingsv2/batchupdatev2``), as far as an
  emulator without an OCSF findings store can: the request is validated and every
  finding is answered as not found;
- ``CreateActionTarget``, ``DescribeActionTargets``, ``UpdateActionTarget`` and
  ``DeleteActionTarget`` (``/actionTargets``);
- filters in ``GetFindings`` (string filters on the fields listed in
  ``STRING_FILTER_FIELDS``; any other filter is refused as not implemented, never
  silently ignored).

The code is laid out as it would be proposed to moto upstream: the exceptions
belong in ``moto/securityhub/exceptions.py``, ``ActionTarget`` and the
``SecurityHubBackendAdditions`` methods in ``models.py`` (on ``SecurityHubBackend``),
the ``SecurityHubResponseAdditions`` methods in ``responses.py`` and ``URL_PATHS``
in ``urls.py``. ``install()`` is the only part that exists because this runs
outside moto. Every documented fact it follows names the page of the Security Hub
API reference it comes from.
"""

from __future__ import annotations

import sys

# Importing this file from its own directory must not leave __pycache__ in the repository.
sys.dont_write_bytecode = True

import datetime  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from typing import Any, Callable  # noqa: E402

from moto.securityhub import models as securityhub_models  # noqa: E402
from moto.securityhub import responses as securityhub_responses  # noqa: E402
from moto.securityhub import urls as securityhub_urls  # noqa: E402
from moto.securityhub.exceptions import InvalidInputException, SecurityHubClientError  # noqa: E402
from moto.utilities.paginator import paginate  # noqa: E402

# --------------------------------------------------------------------------------------
# exceptions.py
# --------------------------------------------------------------------------------------


class ResourceNotFoundException(SecurityHubClientError):
    """DeleteActionTarget, UpdateActionTarget, DescribeActionTargets: HTTP 404."""

    def __init__(self, msg: str):
        super().__init__("ResourceNotFoundException", msg)


class ResourceConflictException(SecurityHubClientError):
    """CreateActionTarget with an Id already in use in the account and Region: HTTP 409."""

    def __init__(self, msg: str):
        super().__init__("ResourceConflictException", msg)


class LimitExceededException(SecurityHubClientError):
    """A quota was reached (HTTP 429), e.g. the 51st custom action of an account and Region."""

    def __init__(self, msg: str):
        super().__init__("LimitExceededException", msg)


class ValidationException(SecurityHubClientError):
    """The V2 APIs' invalid-input error (HTTP 400)."""

    def __init__(self, msg: str):
        super().__init__("ValidationException", msg)


# --------------------------------------------------------------------------------------
# models.py
# --------------------------------------------------------------------------------------

# Security Hub endpoints and quotas (docs.aws.amazon.com/general/latest/gr/sechub.html):
# 50 custom actions per account per Region.
MAX_ACTION_TARGETS = 50
# API_CreateActionTarget: "Name ... Can contain up to 20 characters", "Id ... Can contain up to
# 20 alphanumeric characters".
ACTION_TARGET_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")
MAX_ACTION_TARGET_NAME = 20
# API_BatchUpdateFindings: "BatchUpdateFindings can be used to update up to 100 findings at a time."
MAX_FINDINGS_PER_UPDATE = 100
# AwsSecurityFinding / Note: Text and UpdatedBy are at most 512 characters.
MAX_NOTE_LENGTH = 512
# AwsSecurityFinding: UserDefinedFields "Can contain up to 50 key-value pairs. For each key-value
# pair, the key can contain up to 128 characters, and the value can contain up to 1024 characters."
MAX_USER_DEFINED_FIELDS = 50
MAX_USER_DEFINED_KEY = 128
MAX_USER_DEFINED_VALUE = 1024
WORKFLOW_STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
VERIFICATION_STATES = ("UNKNOWN", "TRUE_POSITIVE", "FALSE_POSITIVE", "BENIGN_POSITIVE")
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
# API_BatchUpdateFindingsV2: SeverityId in [0, 1, 2, 3, 4, 5, 6, 99], StatusId in [0, 1, 2, 3, 4, 5, 99],
# Comment "Minimum character length 1. Maximum character length 512."
OCSF_SEVERITY_IDS = (0, 1, 2, 3, 4, 5, 6, 99)
OCSF_STATUS_IDS = (0, 1, 2, 3, 4, 5, 99)
MAX_OCSF_COMMENT = 512

# StringFilter: the fields GetFindings can filter on here, each read from the finding as a list
# of values (a finding matches when any of them does, as for Resources[].Type).
STRING_FILTER_FIELDS: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
    "Id": lambda f: [f.get("Id")],
    "ProductArn": lambda f: [f.get("ProductArn")],
    "AwsAccountId": lambda f: [f.get("AwsAccountId")],
    "GeneratorId": lambda f: [f.get("GeneratorId")],
    "Region": lambda f: [f.get("Region")],
    "Title": lambda f: [f.get("Title")],
    "Description": lambda f: [f.get("Description")],
    "ProductName": lambda f: [f.get("ProductName")],
    "CompanyName": lambda f: [f.get("CompanyName")],
    "Type": lambda f: list(f.get("Types") or []),
    "RecordState": lambda f: [f.get("RecordState")],
    "WorkflowStatus": lambda f: [(f.get("Workflow") or {}).get("Status")],
    "ComplianceStatus": lambda f: [(f.get("Compliance") or {}).get("Status")],
    "ComplianceSecurityControlId": lambda f: [(f.get("Compliance") or {}).get("SecurityControlId")],
    "SeverityLabel": lambda f: [(f.get("Severity") or {}).get("Label")],
    "VerificationState": lambda f: [f.get("VerificationState")],
    "NoteText": lambda f: [(f.get("Note") or {}).get("Text")],
    "NoteUpdatedBy": lambda f: [(f.get("Note") or {}).get("UpdatedBy")],
    "ResourceType": lambda f: [r.get("Type") for r in f.get("Resources") or []],
    "ResourceId": lambda f: [r.get("Id") for r in f.get("Resources") or []],
}
STRING_COMPARISONS = ("EQUALS", "PREFIX", "NOT_EQUALS", "PREFIX_NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "CONTAINS_WORD")
_INCLUDING = {
    "EQUALS": lambda value, wanted: value == wanted,
    "PREFIX": lambda value, wanted: value.startswith(wanted),
    "CONTAINS": lambda value, wanted: wanted in value,
}
_EXCLUDING = {
    "NOT_EQUALS": lambda value, wanted: value == wanted,
    "PREFIX_NOT_EQUALS": lambda value, wanted: value.startswith(wanted),
    "NOT_CONTAINS": lambda value, wanted: wanted in value,
}

PAGINATION_MODEL = {
    "get_findings": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "Id",
        "fail_on_invalid_token": True,
    },
    "describe_action_targets": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "ActionTargetArn",
        "fail_on_invalid_token": True,
    },
}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _non_empty(value: Any) -> bool:
    """The API's `.*\\S.*` pattern: a string with at least one non-blank character."""
    return isinstance(value, str) and value.strip() != ""


class ActionTarget:
    """A custom action. Upstream, a BaseModel (whose metaclass needs the class to live in a moto.<service> module)."""

    def __init__(self, partition: str, region_name: str, account_id: str, target_id: str, name: str, description: str):
        # API_CreateActionTarget example: arn:aws:securityhub:us-west-1:123456789012:action/custom/Remediation
        self.arn = f"arn:{partition}:securityhub:{region_name}:{account_id}:action/custom/{target_id}"
        self.name = name
        self.description = description

    def to_dict(self) -> dict[str, str]:
        return {"ActionTargetArn": self.arn, "Name": self.name, "Description": self.description}


def _string_filter_matches(values: list[Any], filters: list[dict[str, Any]]) -> bool:
    """
    StringFilter: "CONTAINS, EQUALS, and PREFIX filters on the same field are joined by OR";
    "NOT_CONTAINS, NOT_EQUALS, and PREFIX_NOT_EQUALS filters on the same field are joined by
    AND"; PREFIX with NOT_EQUALS: the PREFIX filters first, then the exclusions. Values are
    case sensitive.
    """
    strings = [value for value in values if isinstance(value, str)]
    including = [f for f in filters if f["Comparison"] in _INCLUDING]
    excluding = [f for f in filters if f["Comparison"] in _EXCLUDING]
    if including and not any(_INCLUDING[f["Comparison"]](value, f["Value"]) for f in including for value in strings):
        return False
    return not any(_EXCLUDING[f["Comparison"]](value, f["Value"]) for f in excluding for value in strings)


def _validate_string_filters(field: str, filters: Any) -> list[dict[str, Any]]:
    if not isinstance(filters, list):
        raise InvalidInputException(op="GetFindings", msg=f"Filters.{field} must be a list of StringFilter")
    for entry in filters:
        if not isinstance(entry, dict) or not _non_empty(entry.get("Value")) or entry.get("Comparison") not in STRING_COMPARISONS:
            raise InvalidInputException(
                op="GetFindings",
                msg=f"Filters.{field}: each StringFilter needs a non-empty Value and a Comparison among {', '.join(STRING_COMPARISONS)}",
            )
        if entry["Comparison"] == "CONTAINS_WORD":
            # StringFilter: "The CONTAINS_WORD operator works only in the GetFindingsV2, ... APIs."
            raise InvalidInputException(op="GetFindings", msg=f"Filters.{field}: CONTAINS_WORD is supported only by the V2 APIs")
    comparisons = {entry["Comparison"] for entry in filters}
    # StringFilter: "You can't have both a CONTAINS filter and a NOT_CONTAINS filter on the same field.
    # Similarly, you can't provide both an EQUALS filter and a NOT_EQUALS or PREFIX_NOT_EQUALS filter
    # on the same field." and "CONTAINS filters can only be used with other CONTAINS filters.
    # NOT_CONTAINS filters can only be used with other NOT_CONTAINS filters."
    if ("CONTAINS" in comparisons and comparisons != {"CONTAINS"}) or ("NOT_CONTAINS" in comparisons and comparisons != {"NOT_CONTAINS"}):
        raise InvalidInputException(op="GetFindings", msg=f"Filters.{field}: CONTAINS and NOT_CONTAINS filters cannot be combined with other comparisons")
    if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise InvalidInputException(op="GetFindings", msg=f"Filters.{field}: EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS")
    return filters


class SecurityHubBackendAdditions:
    """Methods of ``SecurityHubBackend`` (moto/securityhub/models.py)."""

    # Set by SecurityHubBackend.__init__ (see install()).
    account_id: str
    region_name: str
    partition: str
    findings: list[Any]
    action_targets: dict[str, ActionTarget]

    def _init_additions(self) -> None:
        self.action_targets = {}

    # ---- GetFindings ----------------------------------------------------------------

    @paginate(pagination_model=PAGINATION_MODEL)
    def get_findings(
        self,
        filters: dict[str, Any] | None = None,
        sort_criteria: list[dict[str, str]] | None = None,
        max_results: int | None = None,
    ) -> list[dict[str, Any]]:
        """
        String filters are applied to the fields in STRING_FILTER_FIELDS; other filter fields
        (dates, numbers, maps, booleans) raise NotImplementedError rather than being ignored.
        SortCriteria is not implemented: findings come back in import order.
        """
        if max_results is not None:
            try:
                max_results = int(max_results)
            except ValueError:
                raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number greater than 0")
            if max_results < 1 or max_results > 100:
                raise InvalidInputException(op="GetFindings", msg="MaxResults must be a number between 1 and 100")
        checks: list[tuple[Callable[[dict[str, Any]], list[Any]], list[dict[str, Any]]]] = []
        for field, field_filters in (filters or {}).items():
            if field not in STRING_FILTER_FIELDS:
                raise NotImplementedError(f"GetFindings filter {field} is not implemented by this emulator")
            checks.append((STRING_FILTER_FIELDS[field], _validate_string_filters(field, field_filters)))
        # Different fields are joined by AND.
        return [f.as_dict() for f in self.findings if all(_string_filter_matches(read(f.as_dict()), field_filters) for read, field_filters in checks)]

    # ---- BatchUpdateFindings ----------------------------------------------------------

    def batch_update_findings(
        self,
        finding_identifiers: list[dict[str, Any]] | None,
        note: dict[str, Any] | None = None,
        severity: dict[str, Any] | None = None,
        verification_state: str | None = None,
        confidence: int | None = None,
        criticality: int | None = None,
        types: list[str] | None = None,
        user_defined_fields: dict[str, str] | None = None,
        workflow: dict[str, Any] | None = None,
        related_findings: list[dict[str, Any]] | None = None,
    ) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        """
        Follows API_BatchUpdateFindings: invalid requests fail as a whole with
        InvalidInputException; findings that cannot be updated are listed in
        UnprocessedFindings (FindingNotFound, DuplicatedFindingIdentifier) while the others are
        updated. "Updates from BatchUpdateFindings do not affect the value of UpdatedAt for a
        finding": only Note.UpdatedAt is set, to the time of the update.
        """
        op = "BatchUpdateFindings"
        if not isinstance(finding_identifiers, list) or not finding_identifiers:
            raise InvalidInputException(op=op, msg="FindingIdentifiers must list at least one finding")
        if len(finding_identifiers) > MAX_FINDINGS_PER_UPDATE:
            raise InvalidInputException(op=op, msg=f"FindingIdentifiers can list at most {MAX_FINDINGS_PER_UPDATE} findings")
        for identifier in finding_identifiers:
            if not isinstance(identifier, dict) or not _non_empty(identifier.get("Id")) or not _non_empty(identifier.get("ProductArn")):
                raise InvalidInputException(op=op, msg="Each FindingIdentifier needs an Id and a ProductArn")
        updates = [note, severity, verification_state, confidence, criticality, types, user_defined_fields, workflow, related_findings]
        if all(update is None for update in updates):
            raise InvalidInputException(op=op, msg="At least one field to update must be given")
        if note is not None:
            for key in ("Text", "UpdatedBy"):
                if not _non_empty(note.get(key)):
                    raise InvalidInputException(op=op, msg=f"Note.{key} is required and cannot be blank")
                if len(note[key]) > MAX_NOTE_LENGTH:
                    raise InvalidInputException(op=op, msg=f"Note.{key} must be at most {MAX_NOTE_LENGTH} characters")
        if workflow is not None and workflow.get("Status") not in WORKFLOW_STATUSES:
            raise InvalidInputException(op=op, msg=f"Workflow.Status must be one of {', '.join(WORKFLOW_STATUSES)}")
        if verification_state is not None and verification_state not in VERIFICATION_STATES:
            raise InvalidInputException(op=op, msg=f"VerificationState must be one of {', '.join(VERIFICATION_STATES)}")
        for name, score in (("Confidence", confidence), ("Criticality", criticality)):
            if score is not None and (not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100):
                raise InvalidInputException(op=op, msg=f"{name} must be an integer from 0 to 100")
        if severity is not None:
            label = severity.get("Label")
            normalized = severity.get("Normalized")
            if label is not None and label not in SEVERITY_LABELS:
                raise InvalidInputException(op=op, msg=f"Severity.Label must be one of {', '.join(SEVERITY_LABELS)}")
            if normalized is not None and (not isinstance(normalized, int) or not 0 <= normalized <= 100):
                raise InvalidInputException(op=op, msg="Severity.Normalized must be an integer from 0 to 100")
        if types is not None and (not isinstance(types, list) or not all(_non_empty(t) for t in types)):
            raise InvalidInputException(op=op, msg="Types must be a list of non-empty strings")
        if user_defined_fields is not None:
            if len(user_defined_fields) > MAX_USER_DEFINED_FIELDS:
                raise InvalidInputException(op=op, msg=f"UserDefinedFields can hold at most {MAX_USER_DEFINED_FIELDS} pairs")
            for key, value in user_defined_fields.items():
                if len(key) > MAX_USER_DEFINED_KEY or not isinstance(value, str) or len(value) > MAX_USER_DEFINED_VALUE:
                    raise InvalidInputException(
                        op=op, msg=f"UserDefinedFields keys are at most {MAX_USER_DEFINED_KEY} characters, values at most {MAX_USER_DEFINED_VALUE}"
                    )
        if related_findings is not None:
            for related in related_findings:
                if not _non_empty(related.get("Id")) or not _non_empty(related.get("ProductArn")):
                    raise InvalidInputException(op=op, msg="Each RelatedFinding needs an Id and a ProductArn")

        processed: list[dict[str, str]] = []
        unprocessed: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        keys = [(identifier["Id"], identifier["ProductArn"]) for identifier in finding_identifiers]
        duplicated = {key for key in keys if keys.count(key) > 1}
        for finding_id, product_arn in keys:
            identifier = {"Id": finding_id, "ProductArn": product_arn}
            # BatchUpdateFindingsUnprocessedFinding: "DuplicatedFindingIdentifier - The request included
            # two or more findings with the same FindingIdentifier." (message "Finding Identifier is duplicated")
            if (finding_id, product_arn) in duplicated:
                if (finding_id, product_arn) not in seen:
                    unprocessed.append({"FindingIdentifier": identifier, "ErrorCode": "DuplicatedFindingIdentifier", "ErrorMessage": "Finding Identifier is duplicated"})
                seen.add((finding_id, product_arn))
                continue
            finding = next((f for f in self.findings if f.id == finding_id and f.data.get("ProductArn") == product_arn), None)
            if finding is None:
                # "FindingNotFound - The FindingIdentifier included in the request did not match an existing finding."
                unprocessed.append({"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "Finding Not Found"})
                continue
            data = finding.data
            if note is not None:
                data["Note"] = {"Text": note["Text"], "UpdatedBy": note["UpdatedBy"], "UpdatedAt": _now()}
            if workflow is not None:
                data["Workflow"] = {"Status": workflow["Status"]}
            if verification_state is not None:
                data["VerificationState"] = verification_state
            if confidence is not None:
                data["Confidence"] = confidence
            if criticality is not None:
                data["Criticality"] = criticality
            if types is not None:
                data["Types"] = list(types)
            if user_defined_fields is not None:
                data["UserDefinedFields"] = dict(user_defined_fields)
            if related_findings is not None:
                data["RelatedFindings"] = [{"Id": r["Id"], "ProductArn": r["ProductArn"]} for r in related_findings]
            if severity is not None:
                updated = dict(data.get("Severity") or {})
                updated.update({key: value for key, value in severity.items() if value is not None})
                # SeverityUpdate: "If you provide Normalized and don't provide Label, Label is set automatically".
                if severity.get("Label") is None and severity.get("Normalized") is not None:
                    updated["Label"] = _label_for(severity["Normalized"])
                data["Severity"] = updated
            processed.append(identifier)
        return processed, unprocessed

    # ---- BatchUpdateFindingsV2 --------------------------------------------------------

    def batch_update_findings_v2(
        self,
        metadata_uids: list[str] | None = None,
        finding_identifiers: list[dict[str, Any]] | None = None,
        comment: str | None = None,
        severity_id: int | None = None,
        status_id: int | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """
        Validates the request as API_BatchUpdateFindingsV2 documents it. moto stores no OCSF
        findings (nothing can import one), so every finding is answered in UnprocessedFindings
        with ErrorCode ResourceNotFoundException, as for an unknown finding.
        """
        if metadata_uids and finding_identifiers:
            # "Customers cannot use MetadataUids together with FindingIdentifiers."
            raise ValidationException("MetadataUids and FindingIdentifiers cannot be used together")
        if not metadata_uids and not finding_identifiers:
            raise ValidationException("Provide MetadataUids or FindingIdentifiers")
        if len(metadata_uids or finding_identifiers or []) > MAX_FINDINGS_PER_UPDATE:
            raise ValidationException(f"At most {MAX_FINDINGS_PER_UPDATE} findings can be updated at a time")
        for identifier in finding_identifiers or []:
            if not all(_non_empty(identifier.get(key)) for key in ("CloudAccountUid", "FindingInfoUid", "MetadataProductUid")):
                raise ValidationException("Each FindingIdentifier needs CloudAccountUid, FindingInfoUid and MetadataProductUid")
        if comment is None and severity_id is None and status_id is None:
            raise ValidationException("At least one of Comment, SeverityId or StatusId must be given")
        if comment is not None and (not _non_empty(comment) or len(comment) > MAX_OCSF_COMMENT):
            raise ValidationException(f"Comment must be 1 to {MAX_OCSF_COMMENT} characters")
        if severity_id is not None and severity_id not in OCSF_SEVERITY_IDS:
            raise ValidationException(f"SeverityId must be one of {OCSF_SEVERITY_IDS}")
        if status_id is not None and status_id not in OCSF_STATUS_IDS:
            raise ValidationException(f"StatusId must be one of {OCSF_STATUS_IDS}")
        unprocessed: list[dict[str, Any]] = []
        for identifier in finding_identifiers or []:
            unprocessed.append({"FindingIdentifier": identifier, "ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Finding not found"})
        for uid in metadata_uids or []:
            unprocessed.append({"MetadataUid": uid, "ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Finding not found"})
        return [], unprocessed

    # ---- Action targets (custom actions) ---------------------------------------------

    def create_action_target(self, name: Any, description: Any, target_id: Any) -> str:
        op = "CreateActionTarget"
        if not _non_empty(name) or not _non_empty(description) or not _non_empty(target_id):
            raise InvalidInputException(op=op, msg="Name, Description and Id are required")
        if len(name) > MAX_ACTION_TARGET_NAME:
            raise InvalidInputException(op=op, msg=f"Name can contain up to {MAX_ACTION_TARGET_NAME} characters")
        if not ACTION_TARGET_ID.match(target_id):
            raise InvalidInputException(op=op, msg="Id can contain up to 20 alphanumeric characters")
        target = ActionTarget(self.partition, self.region_name, self.account_id, target_id, name, description)
        if target.arn in self.action_targets:
            raise ResourceConflictException(f"An action target with the ID {target_id} already exists")
        if len(self.action_targets) >= MAX_ACTION_TARGETS:
            raise LimitExceededException(f"The maximum number of custom actions ({MAX_ACTION_TARGETS}) has been reached for this account and Region")
        self.action_targets[target.arn] = target
        return target.arn

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_action_targets(self, action_target_arns: list[str] | None = None, max_results: int | None = None) -> list[dict[str, str]]:
        if max_results is not None and not 1 <= int(max_results) <= 100:
            raise InvalidInputException(op="DescribeActionTargets", msg="MaxResults must be a number between 1 and 100")
        if not action_target_arns:
            return [target.to_dict() for target in self.action_targets.values()]
        # ARNs the account does not hold are left out of the answer, as for a list that shrank.
        return [self.action_targets[arn].to_dict() for arn in action_target_arns if arn in self.action_targets]

    def update_action_target(self, action_target_arn: str, name: Any = None, description: Any = None) -> None:
        op = "UpdateActionTarget"
        target = self._action_target(action_target_arn)
        if name is not None and (not _non_empty(name) or len(name) > MAX_ACTION_TARGET_NAME):
            raise InvalidInputException(op=op, msg=f"Name can contain 1 to {MAX_ACTION_TARGET_NAME} characters")
        if description is not None and not _non_empty(description):
            raise InvalidInputException(op=op, msg="Description cannot be blank")
        if name is not None:
            target.name = name
        if description is not None:
            target.description = description

    def delete_action_target(self, action_target_arn: str) -> str:
        target = self._action_target(action_target_arn)
        del self.action_targets[target.arn]
        return target.arn

    def _action_target(self, action_target_arn: str) -> ActionTarget:
        target = self.action_targets.get(action_target_arn)
        if target is None:
            raise ResourceNotFoundException(f"ActionTarget {action_target_arn} not found")
        return target


def _label_for(normalized: int) -> str:
    """SeverityUpdate: 0 INFORMATIONAL, 1–39 LOW, 40–69 MEDIUM, 70–89 HIGH, 90–100 CRITICAL."""
    if normalized == 0:
        return "INFORMATIONAL"
    if normalized < 40:
        return "LOW"
    if normalized < 70:
        return "MEDIUM"
    if normalized < 90:
        return "HIGH"
    return "CRITICAL"


# --------------------------------------------------------------------------------------
# responses.py
# --------------------------------------------------------------------------------------


class SecurityHubResponseAdditions:
    """Methods of ``SecurityHubResponse`` (moto/securityhub/responses.py)."""

    body: Any
    securityhub_backend: Any
    _get_param: Callable[..., Any]

    def _json_body(self) -> dict[str, Any]:
        raw = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
        return json.loads(raw) if raw else {}

    def batch_update_findings(self) -> str:
        params = self._json_body()
        processed, unprocessed = self.securityhub_backend.batch_update_findings(
            finding_identifiers=params.get("FindingIdentifiers"),
            note=params.get("Note"),
            severity=params.get("Severity"),
            verification_state=params.get("VerificationState"),
            confidence=params.get("Confidence"),
            criticality=params.get("Criticality"),
            types=params.get("Types"),
            user_defined_fields=params.get("UserDefinedFields"),
            workflow=params.get("Workflow"),
            related_findings=params.get("RelatedFindings"),
        )
        return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})

    def batch_update_findings_v2(self) -> str:
        params = self._json_body()
        processed, unprocessed = self.securityhub_backend.batch_update_findings_v2(
            metadata_uids=params.get("MetadataUids"),
            finding_identifiers=params.get("FindingIdentifiers"),
            comment=params.get("Comment"),
            severity_id=params.get("SeverityId"),
            status_id=params.get("StatusId"),
        )
        return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})

    def create_action_target(self) -> str:
        params = self._json_body()
        arn = self.securityhub_backend.create_action_target(name=params.get("Name"), description=params.get("Description"), target_id=params.get("Id"))
        return json.dumps({"ActionTargetArn": arn})

    def describe_action_targets(self) -> str:
        params = self._json_body()
        targets, next_token = self.securityhub_backend.describe_action_targets(
            action_target_arns=params.get("ActionTargetArns"),
            max_results=params.get("MaxResults"),
            next_token=params.get("NextToken"),
        )
        response: dict[str, Any] = {"ActionTargets": targets}
        if next_token:
            response["NextToken"] = next_token
        return json.dumps(response)

    def update_action_target(self) -> str:
        params = self._json_body()
        self.securityhub_backend.update_action_target(
            action_target_arn=self._get_param("ActionTargetArn"), name=params.get("Name"), description=params.get("Description")
        )
        return json.dumps({})

    def delete_action_target(self) -> str:
        arn = self.securityhub_backend.delete_action_target(action_target_arn=self._get_param("ActionTargetArn"))
        return json.dumps({"ActionTargetArn": arn})


# --------------------------------------------------------------------------------------
# urls.py
# --------------------------------------------------------------------------------------

URL_PATHS = {
    "{0}/actionTargets$": securityhub_responses.SecurityHubResponse.dispatch,
    "{0}/actionTargets/get$": securityhub_responses.SecurityHubResponse.dispatch,
    "{0}/actionTargets/(?P<ActionTargetArn>.+)$": securityhub_responses.SecurityHubResponse.dispatch,
    "{0}/findings/batchupdate$": securityhub_responses.SecurityHubResponse.dispatch,
    "{0}/findingsv2/batchupdatev2$": securityhub_responses.SecurityHubResponse.dispatch,
}


# ======================================================================================
# EBS snapshots: state, encryption keys, copies and sharing across accounts (issue 17)
#
# Where moto 5.2.1 departs from the Amazon EBS documentation in what the forensics copies
# of ``ec2.snapshot-volumes`` rely on. Laid out as for upstream: the ``EBSBackendAdditions``
# methods belong on ``EBSBackend`` (moto/ec2/models/elastic_block_store.py), the
# ``EBSResponseAdditions`` ones on ``ElasticBlockStore`` (moto/ec2/responses/...).
# Each fact names its page; test/emulator/ebs-snapshots.int.test.ts quotes them.
#
# - A snapshot is ``pending`` until it completes (moto: ``completed`` at once). Its state is
#   moto's own managed state ``ec2::snapshot``: completed at once by default, as before; a
#   test that needs a pending snapshot sets a transition through moto's state manager
#   (``POST /moto-api/state-manager/set-transition``, ``{"progression": "manual", "times": N}``:
#   the first N DescribeSnapshots that return a snapshot show it pending, later ones completed).
# - A snapshot of an encrypted volume is under the volume's KMS key (DescribeSnapshots
#   KmsKeyId: "the KMS key that was used to protect the volume encryption key for the
#   parent volume"; moto: none).
# - The default EBS key (alias/aws/ebs) is an AWS managed key (KeyManager AWS; moto: CUSTOMER).
# - CopySnapshot (API reference): copies only a ``completed`` snapshot ("After you create a
#   snapshot and it has finished copying to Amazon S3 (when the snapshot status is
#   completed), you can copy it", EBS User Guide, Copy a snapshot); a KmsKeyId requires
#   Encrypted; the key is resolved to its ARN, and an unknown, disabled or asymmetric key
#   fails the copy later, not the call ("Amazon Web Services parses KmsKeyId
#   asynchronously ... The action will eventually fail", "Amazon EBS does not support
#   asymmetric KMS keys"); without KmsKeyId an encrypted source keeps its key, and
#   Encrypted alone uses the account's default EBS key; the copy starts ``pending`` and has
#   "an arbitrary volume ID that should not be used for any purpose" (vol-ffffffff); a
#   snapshot shared with the caller may be copied (moto: only the caller's own, any key
#   string accepted, Encrypted ignored, the source's volume id).
# - ModifySnapshotAttribute (API reference): "Snapshots encrypted with your default KMS key
#   cannot be shared with other accounts" (moto: shared). AWS answers OperationNotPermitted
#   "Encrypted snapshots with EBS default key cannot be shared" (as reported in
#   hashicorp/packer#7499).
# - DescribeSnapshots (API reference): lists "public snapshots, private snapshots that you
#   own, and private snapshots owned by other Amazon Web Services accounts for which you have
#   explicit create volume permissions", scoped by OwnerIds and RestorableByUserIds (moto:
#   the caller's own snapshots only, both parameters ignored).
#
# Not emulated: KMS key policies (moto checks only their Deny statements), so whether the
# forensics account may use a key is not proven here; tags seen across accounts (AWS shows
# an account only its own tags on a snapshot shared with it).
# ======================================================================================

from moto.ec2 import models as ec2_models  # noqa: E402
from moto.ec2.exceptions import EC2ClientError, InvalidParameterDependency, InvalidSnapshotIdError, OperationNotPermitted  # noqa: E402
from moto.ec2.models import elastic_block_store as ebs_models  # noqa: E402
from moto.ec2.responses import elastic_block_store as ebs_responses  # noqa: E402
from moto.ec2.utils import generic_filter  # noqa: E402
from moto.moto_api import state_manager  # noqa: E402
from moto.moto_api._internal.managed_state_model import ManagedState  # noqa: E402

SNAPSHOT_MODEL = "ec2::snapshot"
# CopySnapshot: "Snapshots created by the CopySnapshot action have an arbitrary volume ID that
# should not be used for any purpose."
COPY_VOLUME_ID = "vol-ffffffff"


class SnapshotIncorrectState(EC2ClientError):
    """A snapshot used before it completed; the code and message AWS gives for a pending one."""

    def __init__(self, snapshot_id: str, state: str):
        super().__init__("IncorrectState", f"Snapshot {snapshot_id} is in invalid state - {state}")


def _is_aws_managed_ebs_key(account_id: str, region: str, key_id: str | None) -> bool:
    from moto.kms import kms_backends

    if not key_id:
        return False
    kms = dict.get(dict.get(kms_backends, account_id) or {}, region)
    if kms is None:
        return False
    try:
        key = kms.describe_key(key_id)
    except Exception:  # noqa: BLE001 - an unknown key is not the default one
        return False
    return key.key_manager == "AWS" or "alias/aws/ebs" in key.aliases


class EBSBackendAdditions:
    """Methods of ``EBSBackend`` (moto/ec2/models/elastic_block_store.py)."""

    account_id: str
    region_name: str
    snapshots: dict[str, Any]
    default_kms_key_id: str
    _riposte_original_create_snapshot: Callable[..., Any]
    _riposte_original_default_key: Callable[..., str]
    _riposte_original_add_permission: Callable[..., None]
    get_snapshot: Callable[[str], Any]

    def create_snapshot(self, volume_id: str, description: str, owner_id: str | None = None, from_ami: str | None = None) -> Any:
        snapshot = self._riposte_original_create_snapshot(volume_id, description, owner_id=owner_id, from_ami=from_ami)
        if snapshot.volume.encrypted:
            snapshot.kms_key_id = snapshot.volume.kms_key_id
        return snapshot

    def _create_default_encryption_key(self) -> str:
        from moto.kms import kms_backends

        arn = self._riposte_original_default_key()
        kms_backends[self.account_id][self.region_name].describe_key(arn).key_manager = "AWS"
        return arn

    def _snapshots_of_others(self) -> list[Any]:
        """Snapshots of other accounts in this region that this account may create volumes from."""
        found = []
        for account_id, regions in dict.items(ec2_models.ec2_backends):
            if account_id == self.account_id:
                continue
            backend = dict.get(regions, self.region_name)
            if backend is None:
                continue
            for snapshot in backend.snapshots.values():
                if self.account_id in snapshot.create_volume_permission_userids or "all" in snapshot.create_volume_permission_groups:
                    found.append(snapshot)
        return found

    def describe_available_snapshots(self, snapshot_ids: list[str], filters: Any, owner_ids: list[str], restorable_by: list[str]) -> list[Any]:
        mine = self.account_id
        matches = [*self.snapshots.values(), *self._snapshots_of_others()]
        if snapshot_ids:
            found = [snapshot for snapshot in matches if snapshot.id in snapshot_ids]
            # "If you specify an invalid snapshot ID, an error is returned. If you specify a snapshot ID for which you do
            # not have access, it is not included in the returned results."
            known = {snapshot.id for snapshot in found} | {
                snapshot_id for regions in dict.values(ec2_models.ec2_backends) for backend in [dict.get(regions, self.region_name)] if backend is not None for snapshot_id in backend.snapshots
            }
            if any(snapshot_id not in known for snapshot_id in snapshot_ids):
                raise InvalidSnapshotIdError()
            matches = found
        if owner_ids:
            owners = {mine if owner == "self" else owner for owner in owner_ids}
            matches = [snapshot for snapshot in matches if snapshot.owner_id in owners]
        if restorable_by:

            def restorable(snapshot: Any) -> bool:
                for user in restorable_by:
                    if user == "all" and "all" in snapshot.create_volume_permission_groups:
                        return True
                    if user == "self" and (snapshot.owner_id == mine or mine in snapshot.create_volume_permission_userids):
                        return True
                    # An account id: explicit permissions, seen on the caller's own snapshots (or for the caller itself).
                    if user in snapshot.create_volume_permission_userids and (snapshot.owner_id == mine or user == mine):
                        return True
                return False

            matches = [snapshot for snapshot in matches if restorable(snapshot)]
        matches = generic_filter(filters, matches) if filters else matches
        # A described snapshot counts as described from the next call on: with a manual transition of
        # `times` N, the first N DescribeSnapshots show it pending, the next one completed.
        for snapshot in matches:
            if getattr(snapshot, "_riposte_described", False):
                snapshot.advance()
            snapshot._riposte_described = True
        return matches

    def _available_snapshot(self, snapshot_id: str, region: str) -> Any:
        backend = ec2_models.ec2_backends[self.account_id][region]
        snapshot = backend.snapshots.get(snapshot_id)
        if snapshot is None:
            snapshot = next((shared for shared in backend._snapshots_of_others() if shared.id == snapshot_id), None)
        if snapshot is None:
            raise InvalidSnapshotIdError()
        return snapshot

    def copy_snapshot(self, source_snapshot_id: str, source_region: str, description: str, kms_key_id: str | None, encrypted: bool = False) -> Any:
        from moto.kms import kms_backends

        source = self._available_snapshot(source_snapshot_id, source_region or self.region_name)
        if source.status != "completed":
            raise SnapshotIncorrectState(source.id, source.status)
        if kms_key_id and not encrypted:
            raise InvalidParameterDependency("KmsKeyId", "Encrypted")
        usable = True
        if kms_key_id:
            key_account = kms_key_id.split(":")[4] if kms_key_id.startswith("arn:") else self.account_id
            kms = dict.get(dict.get(kms_backends, key_account) or {}, self.region_name)
            try:
                key = kms.describe_key(kms_key_id) if kms is not None else None
            except Exception:  # noqa: BLE001 - parsed asynchronously: the copy fails, not the call
                key = None
            # CreateKey: KeyUsage defaults to ENCRYPT_DECRYPT (moto keeps None when it is not given).
            usable = key is not None and key.key_state == "Enabled" and (key.key_usage or "ENCRYPT_DECRYPT") == "ENCRYPT_DECRYPT" and key.key_spec == "SYMMETRIC_DEFAULT"
            if key is not None:
                kms_key_id = key.arn
        elif source.encrypted:
            kms_key_id = source.kms_key_id
        elif encrypted:
            kms_key_id = self.default_kms_key_id or self._create_default_encryption_key()
        snapshot_id = ebs_models.random_snapshot_id()
        snapshot = ebs_models.Snapshot(self, snapshot_id, volume=source.volume, description=description, encrypted=bool(kms_key_id) or source.encrypted, kms_key_id=kms_key_id)
        snapshot._riposte_volume_id = COPY_VOLUME_ID
        if not usable:
            snapshot.status = "error"
        self.snapshots[snapshot_id] = snapshot
        return snapshot

    def add_create_volume_permission(self, snapshot_id: str, user_ids: list[str], groups: list[str]) -> None:
        snapshot = self.get_snapshot(snapshot_id)
        others = [user for user in user_ids or [] if user != self.account_id]
        if snapshot.encrypted and others and _is_aws_managed_ebs_key(self.account_id, self.region_name, snapshot.kms_key_id):
            raise OperationNotPermitted("Encrypted snapshots with EBS default key cannot be shared")
        self._riposte_original_add_permission(snapshot_id, user_ids=user_ids, groups=groups)


class EBSResponseAdditions:
    """Methods of ``ElasticBlockStore`` (moto/ec2/responses/elastic_block_store.py)."""

    ec2_backend: Any
    _get_param: Callable[..., Any]
    _get_bool_param: Callable[..., Any]
    _filters_from_querystring: Callable[..., Any]
    _parse_tag_specification: Callable[..., Any]
    error_on_dryrun: Callable[..., None]

    def copy_snapshot(self) -> Any:
        tags = self._parse_tag_specification().get("snapshot", {})
        self.error_on_dryrun()
        snapshot = self.ec2_backend.copy_snapshot(
            source_snapshot_id=self._get_param("SourceSnapshotId"),
            source_region=self._get_param("SourceRegion"),
            description=self._get_param("Description"),
            kms_key_id=self._get_param("KmsKeyId"),
            encrypted=self._get_bool_param("Encrypted", False),
        )
        snapshot.add_tags(tags)
        return ebs_responses.ActionResult({"SnapshotId": snapshot.id, "Tags": snapshot.tag_set})

    def describe_snapshots(self) -> Any:
        snapshots = self.ec2_backend.describe_available_snapshots(
            snapshot_ids=self._get_param("SnapshotIds", []),
            filters=self._filters_from_querystring(),
            owner_ids=self._get_param("OwnerIds", []),
            restorable_by=self._get_param("RestorableByUserIds", []),
        )
        return ebs_responses.ActionResult({"Snapshots": snapshots})


def _snapshot_volume_id(self: Any) -> str:
    return getattr(self, "_riposte_volume_id", None) or self.volume.id


def install_ebs_snapshots() -> None:
    """Adds the EBS snapshot behaviour above to moto's EBS backend, responses and Snapshot model."""
    snapshot_class = ebs_models.Snapshot
    if getattr(snapshot_class, "_riposte_additions", False):
        return
    backend = ebs_models.EBSBackend
    backend._riposte_original_create_snapshot = backend.create_snapshot  # type: ignore[attr-defined]
    backend._riposte_original_default_key = backend._create_default_encryption_key  # type: ignore[attr-defined]
    backend._riposte_original_add_permission = backend.add_create_volume_permission  # type: ignore[attr-defined]
    _copy_methods(EBSBackendAdditions, backend)
    _copy_methods(EBSResponseAdditions, ebs_responses.ElasticBlockStore)

    original_init = snapshot_class.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        ManagedState.__init__(self, SNAPSHOT_MODEL, [("pending", "completed")])

    original_filter = snapshot_class.get_filter_value

    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        return self.volume_id if filter_name == "volume-id" else original_filter(self, filter_name, method_name)

    snapshot_class.__init__ = __init__  # type: ignore[method-assign]
    snapshot_class.status = ManagedState.status  # type: ignore[attr-defined]
    snapshot_class.advance = ManagedState.advance  # type: ignore[attr-defined]
    snapshot_class._get_next_status = ManagedState._get_next_status  # type: ignore[attr-defined]
    snapshot_class._get_last_status = ManagedState._get_last_status  # type: ignore[attr-defined]
    snapshot_class.volume_id = property(_snapshot_volume_id)  # type: ignore[assignment]
    snapshot_class.progress = property(lambda self: "100%" if self.status == "completed" else "0%")  # type: ignore[assignment]
    snapshot_class.get_filter_value = get_filter_value  # type: ignore[method-assign]
    # Completed at once unless a test sets another transition: moto's behaviour so far.
    state_manager.register_default_transition(model_name=SNAPSHOT_MODEL, transition={"progression": "immediate"})
    snapshot_class._riposte_additions = True  # type: ignore[attr-defined]


# ======================================================================================
# Evidence: KMS signatures over a digest, and Object Lock retention read back (issue 17)
#
# Where moto 5.2.1 departs from the AWS documentation in what the signed evidence manifest
# of ``ec2.capture-metadata`` relies on. Laid out as for upstream: the
# ``KmsBackendEvidenceAdditions`` methods belong on ``KmsBackend`` (moto/kms/models.py), the
# ``KmsResponseEvidenceAdditions`` ones on ``KmsResponse`` (moto/kms/responses.py), the
# ``S3ResponseEvidenceAdditions`` one on ``S3Response`` (moto/s3/responses.py). Each fact names
# its page; test/emulator/evidence.int.test.ts quotes them.
#
# - KMS Sign / Verify (API reference), MessageType: "Use RAW for unhashed messages; use
#   DIGEST for message digests, which are already hashed"; "When the value of MessageType is
#   DIGEST, the length of the Message value must match the length of hashed messages for the
#   specified signing algorithm"; with DIGEST, "KMS skips the hashing step and signs the
#   Message value". Message: "up to 4096 bytes" (RAW). moto ignores MessageType and hashes a
#   digest again, so its DIGEST signatures check against nothing.
# - RSASSA_PSS_* (KMS Developer Guide, "Asymmetric key specs"): PSS padding with MGF1 of the
#   same hash "along with a 256-bit salt" (SHA-256; 384- and 512-bit for the others: the
#   hash's length). moto uses the largest salt the key allows.
# - Verify (API reference): "If the signature verification fails, the Verify operation fails
#   with an KMSInvalidSignatureException exception" (moto: answers SignatureValid false).
# - GetObjectRetention (S3 API reference): answers the object version's Retention (Mode,
#   RetainUntilDate); an object without one answers NoSuchObjectLockConfiguration, "The
#   specified object does not have a ObjectLock configuration" (moto: HTTP 500).
# - A bucket's default retention applies to a new object version "unless you explicitly
#   specify a retention mode and period for the object version", and "legal holds are
#   independent from retention periods" (S3 User Guide, "How S3 Object Lock works"): a
#   PutObject placing a legal hold still gets the default retention (moto: none).
# ======================================================================================

import base64  # noqa: E402

from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.kms import models as kms_models  # noqa: E402
from moto.kms import responses as kms_responses  # noqa: E402
from moto.kms.exceptions import ValidationException as KmsValidationException  # noqa: E402
from moto.s3 import responses as s3_responses  # noqa: E402

# API_Sign: Message "Length Constraints: Minimum length of 1. Maximum length of 4096."
MAX_RAW_MESSAGE = 4096
_SIGNING_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "RSASSA_PSS_SHA_256": hashes.SHA256,
    "RSASSA_PSS_SHA_384": hashes.SHA384,
    "RSASSA_PSS_SHA_512": hashes.SHA512,
    "RSASSA_PKCS1_V1_5_SHA_256": hashes.SHA256,
    "RSASSA_PKCS1_V1_5_SHA_384": hashes.SHA384,
    "RSASSA_PKCS1_V1_5_SHA_512": hashes.SHA512,
    "ECDSA_SHA_256": hashes.SHA256,
    "ECDSA_SHA_384": hashes.SHA384,
    "ECDSA_SHA_512": hashes.SHA512,
}


class KMSInvalidSignatureException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("KMSInvalidSignatureException", "")


def _digest_for(message: bytes, message_type: str, signing_algorithm: str) -> tuple[bytes, hashes.HashAlgorithm]:
    algorithm = _SIGNING_HASHES[signing_algorithm]()
    if message_type not in ("RAW", "DIGEST"):
        raise KmsValidationException(
            f"1 validation error detected: Value '{message_type}' at 'MessageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST]"
        )
    if message_type == "RAW":
        if len(message) > MAX_RAW_MESSAGE:
            raise KmsValidationException(
                "1 validation error detected: Value at 'Message' failed to satisfy constraint: Member must have length less than or equal to 4096"
            )
        digest = hashes.Hash(algorithm)
        digest.update(message)
        return digest.finalize(), algorithm
    if len(message) != algorithm.digest_size:
        raise KmsValidationException(f"Digest is invalid length for algorithm {signing_algorithm}.")
    return message, algorithm


def _padding_for(signing_algorithm: str, algorithm: hashes.HashAlgorithm) -> padding.AsymmetricPadding:
    if signing_algorithm.startswith("RSASSA_PSS_"):
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    return padding.PKCS1v15()


class KmsBackendEvidenceAdditions:
    """KmsBackend.sign and verify, taking MessageType."""

    def sign(self: Any, key_id: str, message: bytes, signing_algorithm: str, message_type: str = "RAW") -> tuple[str, bytes, str]:
        key = self.describe_key(key_id)
        self._KmsBackend__ensure_valid_sign_and_verify_key(key)
        self._KmsBackend__ensure_valid_signing_algorithm(key, signing_algorithm)
        digest, algorithm = _digest_for(message, message_type, signing_algorithm)
        private_key = key.private_key.private_key
        if signing_algorithm.startswith("ECDSA_"):
            signature = private_key.sign(digest, ec.ECDSA(Prehashed(algorithm)))
        else:
            signature = private_key.sign(digest, _padding_for(signing_algorithm, algorithm), Prehashed(algorithm))
        return key.arn, signature, signing_algorithm

    def verify(self: Any, key_id: str, message: bytes, signature: bytes, signing_algorithm: str, message_type: str = "RAW") -> tuple[str, bool, str]:
        key = self.describe_key(key_id)
        self._KmsBackend__ensure_valid_sign_and_verify_key(key)
        self._KmsBackend__ensure_valid_signing_algorithm(key, signing_algorithm)
        digest, algorithm = _digest_for(message, message_type, signing_algorithm)
        public_key = key.private_key.private_key.public_key()
        try:
            if signing_algorithm.startswith("ECDSA_"):
                public_key.verify(signature, digest, ec.ECDSA(Prehashed(algorithm)))
            else:
                public_key.verify(signature, digest, _padding_for(signing_algorithm, algorithm), Prehashed(algorithm))
        except InvalidSignature:
            raise KMSInvalidSignatureException()
        return key.arn, True, signing_algorithm


class KmsResponseEvidenceAdditions:
    """KmsResponse.sign and verify, passing MessageType on."""

    def _signing_params(self: Any) -> tuple[str, bytes, str, str]:
        key_id = self._get_param("KeyId")
        message = self._get_param("Message")
        self._validate_key_id(key_id)
        if isinstance(message, str):
            message = message.encode("utf-8")
        if not message:
            raise KmsValidationException(
                "1 validation error detected: Value at 'Message' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        return key_id, message, self._get_param("MessageType") or "RAW", self._get_param("SigningAlgorithm")

    def sign(self: Any) -> str:
        key_id, message, message_type, signing_algorithm = self._signing_params()
        key_arn, signature, signing_algorithm = self.kms_backend.sign(key_id, message, signing_algorithm, message_type)
        return json.dumps({"KeyId": key_arn, "Signature": base64.b64encode(signature).decode("utf-8"), "SigningAlgorithm": signing_algorithm})

    def verify(self: Any) -> str:
        key_id, message, message_type, signing_algorithm = self._signing_params()
        signature = self._get_param("Signature")
        if isinstance(signature, str):
            signature = base64.b64decode(signature.encode("utf-8"))
        if not signature:
            raise KmsValidationException(
                "1 validation error detected: Value at 'Signature' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        key_arn, valid, signing_algorithm = self.kms_backend.verify(key_id, message, signature, signing_algorithm, message_type)
        return json.dumps({"KeyId": key_arn, "SignatureValid": valid, "SigningAlgorithm": signing_algorithm})


class S3ResponseEvidenceAdditions:
    """GET /{key}?retention on S3Response (moto routes it to GetObject), and the default retention beside a legal hold."""

    def _get_lock_details(self: Any, bucket: Any, lock_enabled: bool) -> tuple[str | None, str | None, str | None]:
        lock_mode = self.headers.get("x-amz-object-lock-mode")
        lock_until = self.headers.get("x-amz-object-lock-retain-until-date")
        legal_hold = self.headers.get("x-amz-object-lock-legal-hold")
        if not (lock_mode or lock_until) and lock_enabled and bucket.has_default_lock:
            lock_until = bucket.default_retention()
            lock_mode = bucket.default_lock_mode
        return legal_hold, lock_mode, lock_until

    def get_object_retention(self: Any) -> Any:
        key, _ = self._get_key()
        if not key.lock_mode or not key.lock_until:
            # S3 Error codes: "NoSuchObjectLockConfiguration ... 404 Not Found" (a code S3's model does not
            # declare, so moto's serializer would answer 400: the error is written here).
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchObjectLockConfiguration</Code>'
                "<Message>The specified object does not have a ObjectLock configuration</Message></Error>"
            )
            return 404, {"Content-Type": "application/xml"}, body
        self.data["Action"] = "GetObjectRetention"
        return self.serialized(ActionResult({"Retention": {"Mode": key.lock_mode, "RetainUntilDate": key.lock_until}}))


def install_evidence_additions() -> None:
    """Adds the KMS and S3 behaviour above to moto's own backends and responses."""
    backend = kms_models.KmsBackend
    if getattr(backend, "_riposte_evidence_additions", False):
        return
    _copy_methods(KmsBackendEvidenceAdditions, backend)
    _copy_methods(KmsResponseEvidenceAdditions, kms_responses.KmsResponse)
    _copy_methods(S3ResponseEvidenceAdditions, s3_responses.S3Response)
    original_key_get = s3_responses.S3Response._key_response_get

    def _key_response_get(self: Any, query: dict[str, Any], key_name: str) -> Any:
        if "retention" in query:
            self._set_action("KEY", "GET", query)
            self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
            return self.get_object_retention()
        return original_key_get(self, query, key_name)

    s3_responses.S3Response._key_response_get = _key_response_get  # type: ignore[method-assign]
    backend._riposte_evidence_additions = True  # type: ignore[attr-defined]


# ======================================================================================
# Systems Manager Run Command: managed instances, command results and S3 output (issue 17)
#
# What ``ssm.collect-evidence`` relies on and moto 5.2.1 lacks. Laid out as for upstream: the
# ``SSMBackendAdditions`` methods belong on ``SimpleSystemManagerBackend`` (moto/ssm/models.py),
# the ``SSMResponseAdditions`` ones on ``SimpleSystemManagerResponse`` (moto/ssm/responses.py).
# test/emulator/ssm-run-command.int.test.ts quotes each fact with its page.
#
# - DescribeInstanceInformation (API reference; moto: not implemented) lists the managed nodes
#   with their PingStatus (Online | ConnectionLost | Inactive), filtered by ``Filters``
#   or ``InstanceInformationFilterList`` (keys InstanceIds, PingStatus, PlatformTypes). Any other key is refused as InvalidFilterKey,
#   never silently ignored. "This call doesn't return the IAM role for EC2 instances."
# - SendCommand with OutputS3BucketName (CommandPlugin OutputS3KeyPrefix; GetCommandInvocation
#   StandardOutputUrl): the agent writes each plugin's complete stdout and stderr to
#   ``<OutputS3KeyPrefix>/<CommandId>/<InstanceId>/awsrunShellScript/0.awsrunShellScript/stdout``
#   (and ``stderr``); a stream with no text is not written (amazon-ssm-agent,
#   agent/plugins/pluginutil: ``if Stdout != ""``). The agent writes with the instance's own
#   credentials, so nothing is written for an instance with no instance profile associated.
#   GetCommandInvocation then gives StandardOutputUrl / StandardErrorUrl, and the first 24,000
#   characters of stdout and 8,000 of stderr inline (moto: no output, nothing written).
# - SendCommand runs on the InstanceIds named (moto: with no Targets, on every instance of the
#   Region as well).
#
# Test devices (an emulator cannot run a script): in AWS-RunShellScript's ``commands``, shell
# comment lines the emulator reads, and a real instance ignores:
#   ``#riposte-emulator: stdout <text>`` / ``#riposte-emulator: stderr <text>`` add a line to
#   that stream; ``#riposte-emulator: exit <n>`` ends the plugin with response code n (Failed
#   unless 0); ``#riposte-emulator: no-s3-output`` stands for an agent whose upload to the
#   output bucket fails (the streams stay inline only). Without them a command succeeds with
#   no output, as in moto.
# And an instance is a managed node only when it carries the tag
# ``riposte-emulator:ssm-ping-status`` (its value is the PingStatus reported).
# Each command also records, per instance, the instance profile associated when it was sent
# (``riposte_instance_profiles``, read back through /moto-api/data.json).
# ======================================================================================

from moto.ec2.models import ec2_backends  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402
from moto.ssm import models as ssm_models  # noqa: E402
from moto.ssm import responses as ssm_responses  # noqa: E402
from moto.ssm.exceptions import InvalidFilterKey  # noqa: E402

SSM_PING_STATUS_TAG = "riposte-emulator:ssm-ping-status"
EMULATOR_DEVICE = re.compile(r"^\s*#riposte-emulator:\s*(stdout|stderr|exit|no-s3-output)(?:\s(.*))?$")
# GetCommandInvocation: StandardOutputContent "The first 24,000 characters written by the plugin
# to stdout"; StandardErrorContent "The first 8,000 characters written by the plugin to stderr".
INLINE_STDOUT_LIMIT = 24_000
INLINE_STDERR_LIMIT = 8_000
# The shell-script plugin's name in S3 keys: aws:runShellScript without the colon, step 0.
SHELL_PLUGIN_PATH = "awsrunShellScript/0.awsrunShellScript"
# DescribeInstanceInformation filter keys, as Filters and as InstanceInformationFilterList name them.
INFORMATION_FILTERS = {"InstanceIds": "InstanceId", "PingStatus": "PingStatus", "PlatformTypes": "PlatformType"}


def _run_devices(commands: list[str]) -> tuple[str, str, int, bool]:
    """stdout, stderr, the response code and whether the S3 upload succeeds, as the test devices in ``commands`` ask."""
    stdout, stderr, code, upload = [], [], 0, True
    for line in commands:
        for part in str(line).split("\n"):
            match = EMULATOR_DEVICE.match(part)
            if match is None:
                continue
            kind, text = match.group(1), match.group(2) or ""
            if kind == "exit":
                code = int(text.strip() or "0")
            elif kind == "no-s3-output":
                upload = False
            else:
                (stdout if kind == "stdout" else stderr).append(text + "\n")
    return "".join(stdout), "".join(stderr), code, upload


def _write_output(region: str, bucket_name: str, key: str, text: str) -> str:
    """Writes one stream into the bucket, in whichever account owns it; its URL."""
    partition, owner = s3_backends.bucket_accounts[bucket_name]
    s3_backends[owner][partition].put_object(bucket_name, key, text.encode("utf-8"))
    return f"https://s3.{region}.amazonaws.com/{bucket_name}/{key}"


class SSMBackendAdditions:
    def _managed_instances(self: Any) -> list[dict[str, Any]]:
        nodes = []
        for instance in ec2_backends[self.account_id][self.region_name].all_instances():
            tags = {tag["key"]: tag["value"] for tag in instance.get_tags()}
            if SSM_PING_STATUS_TAG not in tags or instance.state == "terminated":
                continue
            nodes.append(
                {
                    "InstanceId": instance.id,
                    "PingStatus": tags[SSM_PING_STATUS_TAG],
                    "LastPingDateTime": datetime.datetime.now(datetime.timezone.utc).timestamp(),
                    "AgentVersion": "3.3.0.0",
                    "IsLatestVersion": True,
                    "PlatformType": "Linux",
                    "PlatformName": "Amazon Linux",
                    "PlatformVersion": "2023",
                    "ResourceType": "EC2Instance",
                    "IPAddress": instance.private_ip,
                }
            )
        return nodes

    def describe_instance_information(self: Any, filters: list[dict[str, Any]], filter_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted: list[tuple[str, list[str]]] = []
        for item in filters or []:
            if item.get("Key") not in INFORMATION_FILTERS:
                raise InvalidFilterKey(f"The emulator does not filter instance information by {item.get('Key')}")
            wanted.append((INFORMATION_FILTERS[item["Key"]], list(item.get("Values") or [])))
        for item in filter_list or []:
            if item.get("key") not in INFORMATION_FILTERS:
                raise InvalidFilterKey(f"The emulator does not filter instance information by {item.get('key')}")
            wanted.append((INFORMATION_FILTERS[item["key"]], list(item.get("valueSet") or [])))
        return [node for node in self._managed_instances() if all(node[field] in values for field, values in wanted)]

    def send_command(self: Any, **kwargs: Any) -> Any:
        # moto's Command extends the list it is given in place: keep the ids asked for.
        requested = list(dict.fromkeys(kwargs.get("instance_ids") or []))
        command = self._riposte_original_send_command(**kwargs)
        if not kwargs.get("targets"):
            # SendCommand InstanceIds: "The IDs of the managed nodes where the command should run" (moto: with no
            # Targets, every instance of the Region as well).
            command.instance_ids = requested
            command.invocations = [invocation for invocation in command.invocations if invocation["InstanceId"] in requested]
            command.completed_count = command.target_count = len(requested)
        ec2 = ec2_backends[self.account_id][self.region_name]
        stdout, stderr, code, upload = _run_devices(list((command.parameters or {}).get("commands") or []))
        failed = code != 0
        command.riposte_instance_profiles = {}
        for invocation in command.invocations:
            instance_id = invocation["InstanceId"]
            association = ec2.iam_instance_profile_associations.get(instance_id)
            profile = association.iam_instance_profile.arn if association is not None else None
            command.riposte_instance_profiles[instance_id] = profile
            invocation.update(
                {
                    "ResponseCode": code,
                    "Status": "Failed" if failed else "Success",
                    "StatusDetails": "Failed" if failed else "Success",
                    "StandardOutputContent": stdout[:INLINE_STDOUT_LIMIT],
                    "StandardErrorContent": stderr[:INLINE_STDERR_LIMIT],
                    "StandardOutputUrl": "",
                    "StandardErrorUrl": "",
                }
            )
            bucket = command.output_s3_bucket_name
            if bucket and profile is not None and upload and bucket in s3_backends.bucket_accounts:
                base = "/".join(part for part in (command.output_s3_key_prefix.strip("/"), command.command_id, instance_id, SHELL_PLUGIN_PATH) if part)
                if stdout:
                    invocation["StandardOutputUrl"] = _write_output(self.region_name, bucket, f"{base}/stdout", stdout)
                if stderr:
                    invocation["StandardErrorUrl"] = _write_output(self.region_name, bucket, f"{base}/stderr", stderr)
        if failed:
            command.status, command.status_details = "Failed", "Failed"
            command.error_count, command.completed_count = len(command.invocations), 0
        return command


class SSMResponseAdditions:
    def describe_instance_information(self: Any) -> str:
        nodes = self.ssm_backend.describe_instance_information(self._get_param("Filters", []), self._get_param("InstanceInformationFilterList", []))
        return json.dumps({"InstanceInformationList": nodes})


def install_ssm_run_command() -> None:
    """Adds the Run Command behaviour above to moto's SSM backend and responses."""
    backend = ssm_models.SimpleSystemManagerBackend
    if getattr(backend, "_riposte_ssm_additions", False):
        return
    backend._riposte_original_send_command = backend.send_command  # type: ignore[attr-defined]
    _copy_methods(SSMBackendAdditions, backend)
    _copy_methods(SSMResponseAdditions, ssm_responses.SimpleSystemManagerResponse)
    backend._riposte_ssm_additions = True  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------
# Installing the additions into moto, then starting its server
# --------------------------------------------------------------------------------------


def _copy_methods(source: type, target: type) -> None:
    for name, value in vars(source).items():
        if not name.startswith("__"):
            setattr(target, name, value)


def install() -> None:
    """Adds the operations above to moto's own Security Hub backend, responses and URLs."""
    backend = securityhub_models.SecurityHubBackend
    if getattr(backend, "_riposte_additions", False):
        return
    _copy_methods(SecurityHubBackendAdditions, backend)
    _copy_methods(SecurityHubResponseAdditions, securityhub_responses.SecurityHubResponse)
    original_init = backend.__init__

    # BaseBackend.reset() calls __init__ again: the action targets go with the rest of the state.
    def __init__(self: Any, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        self._init_additions()

    backend.__init__ = __init__  # type: ignore[method-assign]
    backend.PAGINATION_MODEL = {**backend.PAGINATION_MODEL, **PAGINATION_MODEL}
    securityhub_urls.url_paths.update(URL_PATHS)
    backend._riposte_additions = True  # type: ignore[attr-defined]


# ======================================================================================
# Elastic Load Balancing v2: a target is an instance id AND a port (issue 17)
#
# What ``elb.deregister-instance`` relies on, where moto 5.2.1 departs from the Elastic
# Load Balancing API reference. Laid out as for upstream: the ``TargetGroupAdditions``
# methods belong on ``FakeTargetGroup`` (moto/elbv2/models.py). Each fact names its page;
# test/emulator/elbv2-targets.int.test.ts quotes them.
#
# - RegisterTargets: "You can register each EC2 instance or IP address with the same
#   target group multiple times using different ports" (moto keys targets by id alone: a
#   second port replaces the first).
# - DeregisterTargets, Targets: "If you specified a port override when you registered a
#   target, you must specify both the target ID and the port when you deregister it"
#   (moto removes the id whatever the port). A target not registered on that port is
#   InvalidTarget, as moto already answers for an unknown id.
# - DescribeTargetHealth lists each registration (id and port) once.
#
# Not emulated (named where the actions' tests rely on them): deregistration delay
# (AWS keeps a deregistered target ``draining`` for up to 300 s; moto drops it at once),
# and Auto Scaling's own deregistration of an instance it puts on standby or detaches.
# ======================================================================================

from moto.elbv2 import models as elbv2_models  # noqa: E402
from moto.elbv2.exceptions import InvalidTargetError, TargetNotRunning  # noqa: E402


def _target_key(target: dict[str, Any], default_port: Any) -> tuple[str, int]:
    port = target.get("Port")
    return (str(target["Id"]), int(port if port not in (None, "") else default_port))


class TargetGroupAdditions:
    """``FakeTargetGroup`` with its targets keyed by (id, port), as the API reference describes them."""

    def register(self: Any, targets: list[dict[str, Any]]) -> None:
        for target in targets:
            if instance := self.ec2_backend.get_instance_by_id(target["Id"]):
                if instance.state != "running":
                    raise TargetNotRunning(instance_id=target["Id"])
            key = _target_key(target, self.port)
            self.targets[key] = {"Id": key[0], "Port": key[1]}
            self.deregistered_targets.pop(key, None)
            self.terminated_targets.pop(key, None)

    def deregister(self: Any, targets: list[dict[str, Any]]) -> None:
        keys = [_target_key(target, self.port) for target in targets]
        # Nothing is removed when one of the targets is not registered: the call fails as a whole.
        if any(key not in self.targets for key in keys):
            raise InvalidTargetError()
        for key in keys:
            self.deregistered_targets[key] = self.targets.pop(key)

    def deregister_terminated_instances(self: Any, instance_ids: list[str]) -> None:
        for key in [key for key in self.targets if key[0] in instance_ids]:
            self.terminated_targets[key] = self.targets.pop(key)

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        key = _target_key(target, self.port)
        registered = self.targets.get(key)
        if registered is None:
            if key in self.terminated_targets:
                return elbv2_models.FakeHealthStatus(key[0], key[1], self.health_check_port, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
            return elbv2_models.FakeHealthStatus(key[0], key[1], self.health_check_port, "unused", "Target.NotRegistered", "Target is not registered to the target group")
        instance = ec2_backend.get_instance_by_id(key[0]) if key[0].startswith("i-") else None
        if instance is not None and instance.state == "stopped":
            return elbv2_models.FakeHealthStatus(key[0], key[1], self.health_check_port, "unused", "Target.InvalidState", "Target is in the stopped state")
        return elbv2_models.FakeHealthStatus(key[0], key[1], self.health_check_port, "healthy")


def install_elbv2_targets() -> None:
    """Keys moto's target group registrations by (id, port)."""
    target_group = elbv2_models.FakeTargetGroup
    if getattr(target_group, "_riposte_targets_by_port", False):
        return
    _copy_methods(TargetGroupAdditions, target_group)
    target_group._riposte_targets_by_port = True  # type: ignore[attr-defined]


# ======================================================================================
# EC2 security group rules: a rule to a prefix list keeps its description (issue 17)
#
# What ``ec2.isolate`` with ``ssmEndpoints`` relies on, where moto 5.2.1 departs from the
# Amazon EC2 API reference. Laid out as for upstream: ``__init__`` and ``description``
# belong on ``SecurityGroupRule``, the ``Description`` in ``SecurityGroup._flattened_rules``
# (moto/ec2/models/security_groups.py). test/emulator/ec2-prefix-list-rules.int.test.ts
# quotes the page.
#
# - PrefixListId (API reference, data type used in IpPermission.PrefixListIds): "Description:
#   A description for the security group rule that references this prefix list ID." moto
#   keeps only the id, so DescribeSecurityGroups and DescribeSecurityGroupRules answer the
#   rule without the description it was authorized with (rules to an IP range keep theirs).
#
# Not emulated (the action does not rely on them): an interface endpoint's network
# interfaces take a random private address rather than one from their subnet (their type,
# management and description: section "EC2 VPC endpoint network interfaces" below); the
# endpoint reports no security groups when none was given (AWS: the VPC's default group). ``RevokeSecurityGroupEgress``/``Ingress`` naming a rule that does not exist
# fail with ``InvalidPermission.NotFound`` (AWS answers it in ``UnknownIpPermissions``).
# ======================================================================================

from moto.ec2.models import security_groups as ec2_security_groups  # noqa: E402

# SecurityGroupRule(ec2_backend, ip_protocol, group_id, from_port, to_port, ip_range, source_group, prefix_list_id, ...)
_PREFIX_LIST_ARGUMENT = 7


def install_prefix_list_rule_descriptions() -> None:
    """Keeps the description of a security group rule that references a prefix list."""
    rule_class = ec2_security_groups.SecurityGroupRule
    if getattr(rule_class, "_riposte_prefix_list_descriptions", False):
        return
    original_init = rule_class.__init__
    original_flattened = ec2_security_groups.SecurityGroup._flattened_rules

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = kwargs.get("prefix_list_id", args[_PREFIX_LIST_ARGUMENT] if len(args) > _PREFIX_LIST_ARGUMENT else None)
        self.prefix_list_description = prefix_list.get("Description") if isinstance(prefix_list, dict) else None

    def description(self: Any) -> str | None:
        return self.ip_range.get("Description") or getattr(self, "prefix_list_description", None)

    def _flattened_rules(self: Any, rules: list[Any]) -> list[Any]:
        views = original_flattened(self, rules)
        for view in views:
            for entry in view.prefix_list_ids:
                rule = next(
                    (
                        candidate
                        for candidate in rules
                        if candidate.prefix_list_id == entry["PrefixListId"]
                        and (candidate.ip_protocol, candidate.from_port, candidate.to_port) == (view.ip_protocol, view.from_port, view.to_port)
                    ),
                    None,
                )
                if rule is not None and getattr(rule, "prefix_list_description", None):
                    entry["Description"] = rule.prefix_list_description
        return views

    rule_class.__init__ = __init__  # type: ignore[method-assign]
    rule_class.description = property(description)  # type: ignore[assignment,method-assign]
    ec2_security_groups.SecurityGroup._flattened_rules = _flattened_rules  # type: ignore[method-assign]
    rule_class._riposte_prefix_list_descriptions = True  # type: ignore[attr-defined]


# ======================================================================================
# EC2 instance security groups: an instance's groups are its primary interface's (issue 17)
#
# What the isolation of an instance launched with security groups relies on (an Auto Scaling
# group's launch template names them), where moto 5.2.1 departs from the Amazon EC2 User
# Guide. test/emulator/ec2-instance-groups.int.test.ts quotes the page.
#
# - "Security groups for your EC2 instances": "When you launch an instance, you can specify
#   one or more security groups. ... Security groups are associated with network
#   interfaces. Changing an instance's security groups changes the security groups
#   associated with the primary network interface (eth0)." moto keeps the groups an
#   instance was launched with on the instance as well as on its interfaces, and answers an
#   attached interface's groups as the union of both: after ModifyNetworkInterfaceAttribute
#   the interface (and DescribeInstances) still lists the groups it was moved out of; after
#   ModifyInstanceAttribute its primary interface keeps its old ones.
# - Here an attached interface's groups are its own; changing the primary interface's groups
#   changes the instance's, and changing the instance's changes its primary interface's.
# ======================================================================================

from moto.ec2.models import elastic_network_interfaces as eni_models  # noqa: E402
from moto.ec2.models import instances as instance_models  # noqa: E402


def install_primary_interface_groups() -> None:
    """An instance's security groups and its primary network interface's are one list."""
    interface_class = eni_models.NetworkInterface
    if getattr(interface_class, "_riposte_own_groups", False):
        return
    eni_backend = eni_models.NetworkInterfaceBackend
    instance_backend = instance_models.InstanceBackend
    original_modify_interface = eni_backend.modify_network_interface_attribute
    original_modify_instance = instance_backend.modify_instance_security_groups

    def group_set(self: Any) -> Any:
        return self._group_set

    def modify_network_interface_attribute(self: Any, eni_id: str, group_ids: list[str], *args: Any, **kwargs: Any) -> None:
        original_modify_interface(self, eni_id, group_ids, *args, **kwargs)
        eni = self.get_network_interface(eni_id)
        if group_ids and eni.instance is not None and eni.device_index == 0:
            eni.instance.security_groups = list(eni._group_set)

    def modify_instance_security_groups(self: Any, instance_id: str, new_group_id_list: list[str]) -> Any:
        instance = original_modify_instance(self, instance_id, new_group_id_list)
        primary = instance.nics.get(0)
        if primary is not None:
            primary._group_set = list(instance.security_groups)
        return instance

    interface_class.group_set = property(group_set)  # type: ignore[assignment,method-assign]
    eni_backend.modify_network_interface_attribute = modify_network_interface_attribute  # type: ignore[method-assign]
    instance_backend.modify_instance_security_groups = modify_instance_security_groups  # type: ignore[method-assign]
    interface_class._riposte_own_groups = True  # type: ignore[attr-defined]


# ======================================================================================
# EC2 VPC endpoint network interfaces are the endpoint's (issue 17)
#
# What ``ec2.isolate`` with ``ssmEndpoints`` relies on to read an interface endpoint's
# addresses in the same round trip as the endpoints themselves, where moto 5.2.1 departs
# from the Amazon EC2 API reference. test/emulator/ec2-endpoint-interfaces.int.test.ts
# quotes the page.
#
# - NetworkInterface, InterfaceType: "The type of network interface." Valid values include
#   ``vpc_endpoint``; RequesterManaged: "Indicates whether the network interface is being
#   managed by AWS." DescribeNetworkInterfaces filters ``interface-type`` and
#   ``requester-managed``. moto gives an interface endpoint's network interfaces
#   ``InterfaceType: interface``, ``RequesterManaged: false`` and no description, and
#   refuses both filters. Here they are ``vpc_endpoint``, requester-managed, described
#   ``VPC Endpoint Interface <endpoint id>`` as AWS describes them, and both filters work.
# ======================================================================================


def install_endpoint_interfaces() -> None:
    """An interface endpoint's network interfaces are typed, managed and described as AWS's are."""
    interface_class = eni_models.NetworkInterface
    if getattr(interface_class, "_riposte_endpoint_interfaces", False):
        return
    vpc_backend = ec2_models.vpcs.VPCBackend
    original_create = vpc_backend.create_vpc_endpoint
    original_filter = interface_class.get_filter_value

    def create_vpc_endpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        endpoint = original_create(self, *args, **kwargs)
        for eni_id in endpoint.network_interface_ids or []:
            eni = self.get_network_interface(eni_id)
            eni.interface_type = "vpc_endpoint"
            eni.requester_managed = True
            eni.description = f"VPC Endpoint Interface {endpoint.id}"
        return endpoint

    def get_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name == "interface-type":
            return self.interface_type
        if filter_name == "requester-managed":
            return str(bool(self.requester_managed)).lower()
        return original_filter(self, filter_name, method_name)

    vpc_backend.create_vpc_endpoint = create_vpc_endpoint  # type: ignore[method-assign]
    interface_class.get_filter_value = get_filter_value  # type: ignore[method-assign]
    interface_class._riposte_endpoint_interfaces = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    install()
    install_evidence_additions()
    install_ebs_snapshots()
    install_ssm_run_command()
    install_elbv2_targets()
    install_prefix_list_rule_descriptions()
    install_primary_interface_groups()
    install_endpoint_interfaces()
    from moto.server import main as moto_server_main

    moto_server_main(argv)


if __name__ == "__main__":
    main()
