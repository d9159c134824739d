# Ruby's xmlrpc gem on WEBrick. STACK_NIL=1 turns on its nil extension (off by default).
require "json"
require "xmlrpc/server"
if ENV["STACK_NIL"] == "1"
  XMLRPC::Config.module_eval do
    remove_const(:ENABLE_NIL_PARSER)
    remove_const(:ENABLE_NIL_CREATE)
    const_set(:ENABLE_NIL_PARSER, true)
    const_set(:ENABLE_NIL_CREATE, true)
  end
end

LOG = ENV.fetch("STACK_LOG")
METHODS = ENV.fetch("STACK_METHODS", "").split(",")

def describe(value)
  case value
  when nil then { type: "nil", value: nil }
  when true, false then { type: "boolean", value: value }
  when Integer then { type: "int", value: value }
  when Float then { type: "double", value: value }
  when String then { type: "string", value: value }
  when Hash then { type: "struct", value: value.to_h { |k, v| [k, describe(v)] } }
  when Array then { type: "array", value: value.map { |v| describe(v) } }
  when XMLRPC::Base64 then { type: "base64", value: value.decoded }
  when XMLRPC::DateTime then { type: "dateTime", value: value.to_a.inspect }
  else { type: "object:#{value.class}", value: value.to_s }
  end
end

def answer(method, params)
  case method
  when "mailkit.email.wipe"
    { "email" => params[2], "error_status" => 0, "ID_email" => 12_345_678, "error" => "OK" }
  when "mailkit.email.revalidate" then "Sent subscribe email"
  when "mailkit.test.int40" then 2**40
  when "mailkit.test.empty_struct" then {}
  when "mailkit.test.fault" then raise XMLRPC::FaultException.new(4, "Too many parameters")
  else "OK"
  end
end

server = XMLRPC::Server.new(Integer(ENV.fetch("STACK_PORT")), "127.0.0.1", 4, File.open(File::NULL, "w"))
METHODS.each do |name|
  server.add_handler(name) do |*params|
    File.open(LOG, "a") { |f| f.puts(JSON.generate({ method: name, params: params.map { |p| describe(p) } })) }
    answer(name, params)
  end
end
server.serve
