<?php
// PHP's xmlrpc extension (xmlrpc-epi), as the router script of `php -S`.
$log = getenv("STACK_LOG");
$methods = array_filter(explode(",", (string) getenv("STACK_METHODS")));

function describe($value) {
    if ($value === null) return ["type" => "nil", "value" => null];
    if (is_bool($value)) return ["type" => "boolean", "value" => $value];
    if (is_int($value)) return ["type" => "int", "value" => $value];
    if (is_float($value)) return ["type" => "double", "value" => $value];
    if (is_string($value)) return ["type" => "string", "value" => $value];
    if (is_object($value)) {
        $type = xmlrpc_get_type($value);
        return ["type" => $type === "datetime" ? "dateTime" : $type, "value" => $value->scalar];
    }
    // An empty array is both: xmlrpc-epi decodes <struct/> and <array><data/></array> alike.
    $type = $value === [] ? "array|struct" : (array_is_list($value) ? "array" : "struct");
    $described = [];
    foreach ($value as $key => $item) $described[$key] = describe($item);
    return ["type" => $type, "value" => $type === "struct" ? (object) $described : $described];
}

function handle($method, $params, $log) {
    file_put_contents($log, json_encode(["method" => $method, "params" => array_map("describe", $params)]) . "\n", FILE_APPEND);
    switch ($method) {
        case "mailkit.email.wipe":
            return ["email" => $params[2], "error_status" => 0, "ID_email" => 12345678, "error" => "OK"];
        case "mailkit.email.revalidate": return "Sent subscribe email";
        case "mailkit.test.int40": return 1 << 40;
        case "mailkit.test.empty_struct": return [];
        case "mailkit.test.fault": return ["faultCode" => 4, "faultString" => "Too many parameters"];
        default: return "OK";
    }
}

$server = xmlrpc_server_create();
foreach ($methods as $name) xmlrpc_server_register_method($server, $name, "handle");
header("Content-Type: text/xml");
echo xmlrpc_server_call_method($server, file_get_contents("php://input"), $log,
    ["encoding" => "utf-8", "escaping" => "markup"]);
