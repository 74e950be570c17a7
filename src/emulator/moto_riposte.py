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


def main(argv: list[str] | None = None) -> None:
    install()
    from moto.server import main as moto_server_main

    moto_server_main(argv)


if __name__ == "__main__":
    main()
