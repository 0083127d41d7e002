"""Every AWS call the test session makes, recorded inside the moto server, with the IAM actions it needs.

Installed by the `local_aws` fixture (tests/conftest.py) on the session's moto server before anything else
talks to it, so it sees every client: this process, the Celery worker subprocess, the Lambda handler
subprocess, and the browser's and `requests`' direct uploads and downloads with presigned URLs.

Who made a call is told by the caller, not guessed by the server: in this process every botocore request gets
an `x-mediahub-origin` header saying when it was made by the test harness or by the operator's bootstrap
command rather than by the application (see `origin_of`). Calls from other processes carry no header and count
as the application's: they are the worker, the Lambda handler, or a browser using links the application signed.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[2]
HEADER = "x-mediahub-origin"
ACCOUNT = "123456789012"  # moto's account: the resource ARNs below are built with it
APP = "app"

# The calls made in this process that are not the application's, each with the reason it is left out of the
# IAM check. Kept explicit and small: anything else in this process counts as the application's.
HARNESS_FUNCTIONS = {
    ("tests/conftest.py", "empty_aws"): "harness: empty_aws empties tables and buckets between tests",
    ("tests/mediahub/test_aws.py", "test_presigned_get_fetches_the_object"): "harness: a test of the URL signer "
    "fetching a key of its own, outside the application's prefixes",
}
OPERATOR_FILES = {
    "mediahub/bootstrap.py": "operator: bootstrap runs with admin credentials, never as the Lambda role",
    "deploy/role.py": "operator: `make deploy` manages the role with admin credentials, never as the Lambda role",
}
TEST_CODE = "harness: a test calling AWS itself (set-up or inspection), not through the application"
# Zappa's code buckets: deploy.upload writes them through Zappa's upload_to_s3, whose transfer runs in s3transfer's
# threads, so no frame of ours is on the stack to name the operator; the Lambda role never touches them.
CODE_BUCKETS = {
    f"arn:aws:s3:::{stage['s3_bucket']}" for stage in json.loads((ROOT / "zappa_settings.json").read_text()).values()
}
CODE_BUCKET = (
    "operator: `make deploy` uploads the package to Zappa's code bucket (deploy.upload), never the Lambda role"
)


@dataclass
class Call:
    service: str
    operation: str
    actions: list[tuple[str, str]]  # (IAM action, resource ARN)
    origin: str
    status: int
    acl: str | None = None  # a canned ACL the request asked S3 to set on an object
    where: str = ""

    @property
    def is_app(self) -> bool:
        return self.origin == APP


@dataclass
class Recorder:
    app: object
    region: str
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        status = {}

        def recording_start_response(status_line, headers, exc_info=None):
            status["code"] = int(status_line.split()[0])
            return start_response(status_line, headers, exc_info)

        result = self.app(environ, recording_start_response)
        try:
            call = describe(environ, body, self.region)
        except Exception as exc:  # a request we cannot read must fail the check, not the server
            call = Call("unknown", f"unreadable request: {exc!r}", [], _origin(environ), 0)
        if call is not None:
            call.status = status.get("code", 0)
            with self.lock:
                self.calls.append(call)
        return result

    def app_calls(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.is_app]


def install(server, region: str) -> Recorder:
    """Wrap the moto server's WSGI app, and mark this process's harness calls."""
    recorder = Recorder(server._server.app, region)
    server._server.app = recorder
    _mark_origins()
    return recorder


# --- Who made a call (this process only) ---------------------------------------------------------------------


def origin_of(frame, *, test_code_is_harness: bool = True) -> str:
    """APP, or the reason a call made from `frame` (and its callers) is the harness's or the operator's.

    A test calling botocore itself is the harness; a test fetching a URL with `requests` stands in for the browser
    (presigned uploads and links the application signed), so only the functions listed above are left out then."""
    innermost = None
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if ROOT in path.parents and ".venv" not in path.parts:
            rel = path.relative_to(ROOT).as_posix()
            if rel in OPERATOR_FILES:
                return OPERATOR_FILES[rel]
            if (rel, frame.f_code.co_name) in HARNESS_FUNCTIONS:
                return HARNESS_FUNCTIONS[(rel, frame.f_code.co_name)]
            if innermost is None:
                innermost = rel
        frame = frame.f_back
    if test_code_is_harness and innermost is not None and innermost.startswith("tests/"):
        return TEST_CODE
    return APP


def _mark_origins() -> None:
    from botocore.endpoint import Endpoint

    if getattr(Endpoint._send, "_mediahub_marks_origin", False):
        return
    send = Endpoint._send

    def _send(self, request):
        origin = origin_of(sys._getframe(1))
        if origin != APP:
            request.headers[HEADER] = origin
        return send(self, request)

    _send._mediahub_marks_origin = True
    Endpoint._send = _send

    from requests.adapters import HTTPAdapter

    adapter_send = HTTPAdapter.send

    def send_request(self, request, *args, **kwargs):
        origin = origin_of(sys._getframe(1), test_code_is_harness=False)
        if origin != APP:
            request.headers[HEADER] = origin
        return adapter_send(self, request, *args, **kwargs)

    HTTPAdapter.send = send_request


def _origin(environ) -> str:
    return environ.get("HTTP_X_MEDIAHUB_ORIGIN", APP)


# --- What a request asks for, in IAM terms ---------------------------------------------------------------------


def _read_body(environ) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", ""):
        return stream.read()
    return b""


def _service(environ) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return "dynamodb"
    if target.startswith("AmazonSSM."):
        return "ssm"
    if target.startswith("AmazonSQS."):
        return "sqs"
    credential = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" in credential:
        return credential.split("Credential=")[1].split("/")[3]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "X-Amz-Credential" in query:
        return query["X-Amz-Credential"][0].split("/")[3]
    return "s3"  # the browser's form POST and CORS preflight carry no credential header


def describe(environ, body: bytes, region: str) -> Call | None:
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return None
    service = _service(environ)
    origin = _origin(environ)
    if service == "dynamodb":
        operation, actions = _dynamodb(environ, body, region)
    elif service == "ssm":
        operation, actions = _ssm(environ, body, region)
    elif service == "s3":
        if environ["REQUEST_METHOD"] == "OPTIONS":
            return None  # a CORS preflight: unauthenticated, no IAM action
        operation, actions, acl = _s3(environ, body)
        if actions and all(arn.split("/")[0] in CODE_BUCKETS for _, arn in actions):
            origin = CODE_BUCKET
        return Call(service, operation, actions, origin, 0, acl=acl)
    elif service == "lambda" and environ.get("PATH_INFO", "").endswith("/invocations"):
        name = unquote(environ["PATH_INFO"]).split("/functions/")[1].split("/")[0]
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        operation, actions = "Invoke", [("lambda:InvokeFunction", arn)]
    else:
        target = environ.get("HTTP_X_AMZ_TARGET", "").split(".")[-1]
        operation = target or _form_action(environ, body) or f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
        actions = [(f"{service}:{operation}", "*")]
    return Call(service, operation, actions, origin, 0)


def _form_action(environ, body: bytes) -> str:
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qs(body.decode("utf-8", "replace")))
    return params.get("Action", [""])[0]


def _dynamodb(environ, body: bytes, region: str) -> tuple[str, list[tuple[str, str]]]:
    operation = environ["HTTP_X_AMZ_TARGET"].split(".")[-1]
    request = json.loads(body or b"{}")

    def arn(table: str, index: str | None = None) -> str:
        base = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"
        return f"{base}/index/{index}" if index else base

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return operation, [(f"dynamodb:{operation}", arn(t)) for t in request.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        kinds = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
        kinds |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
        return operation, [
            (f"dynamodb:{kinds[kind]}", arn(detail["TableName"]))
            for entry in request.get("TransactItems", [])
            for kind, detail in entry.items()
        ]
    if "TableName" in request:
        return operation, [(f"dynamodb:{operation}", arn(request["TableName"], request.get("IndexName")))]
    return operation, [(f"dynamodb:{operation}", "*")]


def _ssm(environ, body: bytes, region: str) -> tuple[str, list[tuple[str, str]]]:
    operation = environ["HTTP_X_AMZ_TARGET"].split(".")[-1]
    request = json.loads(body or b"{}")
    names = request.get("Names") or ([request["Name"]] if "Name" in request else [])

    def arn(name: str) -> str:
        return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{name if name.startswith('/') else '/' + name}"

    return operation, [(f"ssm:{operation}", arn(n)) for n in names] or [(f"ssm:{operation}", "*")]


# Bucket sub-resources: query parameter -> (action for GET/HEAD, action for PUT/DELETE).
BUCKET_SUBRESOURCES = {
    "cors": ("GetBucketCORS", "PutBucketCORS"),
    "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning"),
    "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration"),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock"),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls"),
    "notification": ("GetBucketNotification", "PutBucketNotification"),
    "policy": ("GetBucketPolicy", "PutBucketPolicy"),
    "acl": ("GetBucketAcl", "PutBucketAcl"),
    "tagging": ("GetBucketTagging", "PutBucketTagging"),
    "location": ("GetBucketLocation", "GetBucketLocation"),
    "versions": ("ListBucketVersions", "ListBucketVersions"),
    "uploads": ("ListBucketMultipartUploads", "ListBucketMultipartUploads"),
    "website": ("GetBucketWebsite", "PutBucketWebsite"),
    "logging": ("GetBucketLogging", "PutBucketLogging"),
}


def _s3(environ, body: bytes) -> tuple[str, list[tuple[str, str]], str | None]:
    method = environ["REQUEST_METHOD"]
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    path = unquote(urlsplit(raw).path)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket, _, key = path.lstrip("/").partition("/")
    acl = environ.get("HTTP_X_AMZ_ACL")
    if not bucket:
        return "ListBuckets", [("s3:ListAllMyBuckets", "*")], None
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        if method == "POST" and "delete" in query:
            tree = ElementTree.fromstring(body)  # noqa: S314 (a request from this test session)
            return (
                "DeleteObjects",
                [_deleted(entry, bucket_arn) for entry in tree if entry.tag.endswith("Object")],
                None,
            )
        if method == "POST":  # the browser's form upload (presigned POST): the key is a form field
            fields = _form_fields(environ, body)
            actions = [("s3:PutObject", f"{bucket_arn}/{fields.get('key', '')}")]
            if "tagging" in fields:  # S3 asks for s3:PutObjectTagging too when a POST sets tags
                actions.append(("s3:PutObjectTagging", actions[0][1]))
            return "PostObject", actions, fields.get("acl")
        for sub, (read, write) in BUCKET_SUBRESOURCES.items():
            if sub in query:
                operation = read if method in ("GET", "HEAD") else write
                return f"{method} ?{sub}", [(f"s3:{operation}", bucket_arn)], None
        operation = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
        action = {"GET": "ListBucket", "HEAD": "ListBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
        return operation.get(method, method), [(f"s3:{action.get(method, method)}", bucket_arn)], None
    object_arn = f"{bucket_arn}/{key}"
    if method in ("GET", "HEAD"):
        for sub in ("acl", "tagging", "attributes"):
            if sub in query:
                return f"{method} object ?{sub}", [(f"s3:GetObject{sub.capitalize()}", object_arn)], None
        if "uploadId" in query:
            return "ListParts", [("s3:ListMultipartUploadParts", object_arn)], None
        action = "s3:GetObjectVersion" if "versionId" in query else "s3:GetObject"
        return ("GetObject" if method == "GET" else "HeadObject"), [(action, object_arn)], None
    if method == "PUT":
        if "uploadId" in query:
            return "UploadPart", [("s3:PutObject", object_arn)], None
        for sub in ("acl", "tagging", "retention", "legal-hold"):
            if sub in query:
                name = sub.replace("-", " ").title().replace(" ", "")
                versioned = "Version" if "versionId" in query and sub in ("acl", "tagging") else ""
                return f"PUT object ?{sub}", [(f"s3:PutObject{versioned}{name}", object_arn)], None
        source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
        if source:
            source_path, _, source_query = unquote(source).lstrip("/").partition("?")
            read = "s3:GetObjectVersion" if "versionId" in source_query else "s3:GetObject"
            return "CopyObject", [(read, f"arn:aws:s3:::{source_path}"), ("s3:PutObject", object_arn)], acl
        return "PutObject", [("s3:PutObject", object_arn)], acl
    if method == "POST":
        if "uploads" in query:
            actions = [("s3:PutObject", object_arn)]
            if environ.get("HTTP_X_AMZ_TAGGING"):  # S3 asks for s3:PutObjectTagging too when the create sets tags
                actions.append(("s3:PutObjectTagging", object_arn))
            return "CreateMultipartUpload", actions, acl
        if "uploadId" in query:
            return "CompleteMultipartUpload", [("s3:PutObject", object_arn)], None
        return f"POST object {sorted(query)}", [("s3:Unknown", object_arn)], None
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload", [("s3:AbortMultipartUpload", object_arn)], None
        if "tagging" in query:
            return "DeleteObjectTagging", [("s3:DeleteObjectTagging", object_arn)], None
        action = "s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject"
        return "DeleteObject", [(action, object_arn)], None
    return method, [(f"s3:{method}", object_arn)], None


def _deleted(entry, bucket_arn: str) -> tuple[str, str]:
    """One <Object> of a DeleteObjects request: deleting a named version is its own IAM action."""
    values = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in entry}
    action = "s3:DeleteObjectVersion" if values.get("VersionId") else "s3:DeleteObject"
    return action, f"{bucket_arn}/{values.get('Key', '')}"


def _form_fields(environ, body: bytes) -> dict[str, str]:
    from werkzeug.formparser import parse_form_data

    copy = {k: v for k, v in environ.items() if k != "wsgi.input"}
    copy["wsgi.input"] = io.BytesIO(body)
    _, form, _ = parse_form_data(copy)
    return {k.lower(): v for k, v in form.items()}
