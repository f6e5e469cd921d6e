// _runnel: the narrow C++ API the Python package is built on. Graphs and GraphDefs cross
// as serialized protobufs; tensors cross as numpy arrays (results without a copy).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "core/crc32c.h"
#include "core/gradients.h"
#include "core/graph.h"
#include "core/graph_io.h"
#include "core/kernel_registry.h"
#include "core/op_registry.h"
#include "distributed/master_session.h"
#include "distributed/server.h"
#include "runtime/device.h"
#include "runtime/direct_session.h"
#include "runtime/frozen_graph_optimizer.h"
#include "runtime/model_signature.h"
#include "runtime/step_stats.h"

namespace py = pybind11;

namespace runnel {
namespace {

// Raises the runnel.errors exception class for the status code, carrying the message.
[[noreturn]] void ThrowStatus(const absl::Status& status) {
  py::object errors = py::module_::import("runnel.errors");
  py::object cls = errors.attr("exception_type_from_error_code")(static_cast<int>(status.code()));
  PyErr_SetObject(cls.ptr(), py::str(std::string(status.message())).ptr());
  throw py::error_already_set();
}

void Check(const absl::Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

// Reads kind and itemsize through Python attributes: the C struct behind them differs
// between numpy 1 and numpy 2.
absl::StatusOr<DataType> DataTypeOf(const py::dtype& dt) {
  const std::string kind = py::str(dt.attr("kind"));
  const int size = dt.attr("itemsize").cast<int>();
  if (kind == "f" && size == 4) return DT_FLOAT;
  if (kind == "f" && size == 8) return DT_DOUBLE;
  if (kind == "f" && size == 2) return DT_HALF;
  if (kind == "i" && size == 4) return DT_INT32;
  if (kind == "i" && size == 8) return DT_INT64;
  if (kind == "i" && size == 2) return DT_INT16;
  if (kind == "i" && size == 1) return DT_INT8;
  if (kind == "u" && size == 1) return DT_UINT8;
  if (kind == "u" && size == 2) return DT_UINT16;
  if (kind == "b") return DT_BOOL;
  return absl::InvalidArgumentError(
      absl::StrCat("numpy dtype ", std::string(py::str(static_cast<const py::handle&>(dt))),
                   " has no Runnel equivalent"));
}

py::dtype NumpyDtype(DataType dtype) {
  switch (dtype) {
    case DT_FLOAT:
      return py::dtype::of<float>();
    case DT_DOUBLE:
      return py::dtype::of<double>();
    case DT_INT32:
      return py::dtype::of<int32_t>();
    case DT_INT64:
      return py::dtype::of<int64_t>();
    case DT_UINT8:
      return py::dtype::of<uint8_t>();
    case DT_INT8:
      return py::dtype::of<int8_t>();
    case DT_INT16:
      return py::dtype::of<int16_t>();
    case DT_UINT16:
      return py::dtype::of<uint16_t>();
    case DT_BOOL:
      return py::dtype::of<bool>();
    case DT_HALF:
      return py::dtype("float16");
    default:
      ThrowStatus(absl::UnimplementedError(
          absl::StrCat("cannot return a tensor of dtype ", DataTypeString(dtype), " to Python")));
  }
}

// A numpy array viewing the tensor's buffer (copied first when shared: Tensor::Unshared),
// which the array keeps alive; strings become an object array of bytes.
py::array ToNumpy(const Tensor& fetched) {
  if (!fetched.on_host()) {  // fetches reach the host through _Retval; anything else is a bug
    ThrowStatus(absl::InternalError(
        absl::StrCat("cannot hand a tensor in device memory to numpy: ", fetched.DebugString())));
  }
  if (fetched.dtype() == DT_STRING) {
    std::vector<py::ssize_t> shape(fetched.shape().dim_sizes().begin(),
                                   fetched.shape().dim_sizes().end());
    py::array out(py::dtype("O"), shape);
    auto* items = static_cast<PyObject**>(out.mutable_data());
    for (int64_t i = 0; i < fetched.NumElements(); ++i) {
      const std::string& s = fetched.data<std::string>()[i];
      Py_XDECREF(items[i]);
      items[i] = PyBytes_FromStringAndSize(s.data(), static_cast<py::ssize_t>(s.size()));
    }
    return out;
  }
  const Tensor t = fetched.Unshared();
  auto* keep = new Tensor(t);
  py::capsule owner(keep, [](void* p) { delete static_cast<Tensor*>(p); });
  std::vector<py::ssize_t> shape(t.shape().dim_sizes().begin(), t.shape().dim_sizes().end());
  // Explicit strides: pybind11 would derive them from numpy's C struct, which numpy 2
  // laid out differently.
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = DataTypeSize(t.dtype());
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return py::array(NumpyDtype(t.dtype()), shape, strides, t.raw_data(), owner);
}

// Fed arrays whose last reference dropped on a thread without the GIL: they are released
// when a run returns or at the next feed, as TensorFlow does, since taking the GIL there
// could deadlock with a Python thread that holds it and waits for that thread (destroying
// a server at exit).
std::mutex pending_decref_mu;
std::vector<PyObject*>* pending_decref = new std::vector<PyObject*>;

void ReleaseArray(PyObject* array) {
  if (PyGILState_Check()) {
    Py_DECREF(array);
    return;
  }
  std::lock_guard<std::mutex> lock(pending_decref_mu);
  pending_decref->push_back(array);
}

// Call with the GIL held.
void ReleasePendingArrays() {
  std::vector<PyObject*> arrays;
  {
    std::lock_guard<std::mutex> lock(pending_decref_mu);
    arrays.swap(*pending_decref);
  }
  for (PyObject* array : arrays) Py_DECREF(array);
}

// A Tensor for a fed array: the array's own memory when it is C-contiguous and aligned
// for its element type (the session's call frame keeps a second reference, so no kernel
// ever writes into it in place), a copy otherwise. Kernels read tensors through unaligned
// loads, so a fed buffer need not have the 64-byte alignment Runnel's own buffers get;
// numpy's large arrays start 16 bytes past it, and copying each batch of a large feed
// cost its whole size in memory again.
Tensor FromNumpy(const py::array& value) {
  ReleasePendingArrays();
  TensorShape shape;
  for (py::ssize_t i = 0; i < value.ndim(); ++i) shape.AddDim(value.shape(i));
  if (value.dtype().kind() == 'O') {  // bytes objects (the session makes them so)
    Tensor t(DT_STRING, shape);
    py::array items = py::array::ensure(value, py::array::c_style);
    auto* objects = static_cast<PyObject* const*>(items.data());
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      char* data = nullptr;
      py::ssize_t size = 0;
      if (PyBytes_AsStringAndSize(objects[i], &data, &size) != 0) {
        PyErr_Clear();
        ThrowStatus(absl::InvalidArgumentError("a string tensor's elements must be bytes"));
      }
      t.data<std::string>()[i].assign(data, static_cast<size_t>(size));
    }
    return t;
  }
  auto dtype = DataTypeOf(value.dtype());
  Check(dtype.status());
  const bool contiguous = (value.flags() & py::array::c_style) != 0;
  const auto address = reinterpret_cast<uintptr_t>(value.data());
  if (contiguous && address % DataTypeSize(*dtype) == 0) {
    PyObject* array = value.ptr();
    Py_INCREF(array);
    // The last reference may drop on a worker thread while Python waits in Run, or after.
    std::shared_ptr<void> owner(array, [](void* p) { ReleaseArray(static_cast<PyObject*>(p)); });
    return Tensor::Wrap(*dtype, shape, std::move(owner), const_cast<void*>(value.data()));
  }
  py::array copy = py::array::ensure(value, py::array::c_style);
  Tensor t(*dtype, shape);
  if (t.TotalBytes() > 0) std::memcpy(t.raw_data(), copy.data(), t.TotalBytes());
  return t;
}

py::bytes Serialize(const google::protobuf::Message& message) {
  std::string out;
  message.SerializeToString(&out);
  return py::bytes(out);
}

// What Python needs to know about a node once it is in the graph.
py::tuple NodeInfo(const Node& node) {
  std::vector<int> types;
  std::vector<py::object> shapes;
  for (int i = 0; i < node.num_outputs(); ++i) {
    types.push_back(node.output_type(i));
    const PartialShape& s = node.output_shape(i);
    if (s.unknown_rank()) {
      shapes.push_back(py::none());
    } else {
      py::list dims;
      for (int64_t d : s.dims()) dims.append(d < 0 ? py::object(py::none()) : py::int_(d));
      shapes.push_back(dims);
    }
  }
  std::vector<int> input_types(node.input_types().begin(), node.input_types().end());
  return py::make_tuple(Serialize(node.def()), types, shapes, input_types);
}

class PyGraph {
 public:
  PyGraph() : graph_(std::make_shared<Graph>()) {}
  py::tuple AddNode(const py::bytes& serialized) {
    NodeDef def;
    if (!def.ParseFromString(std::string(serialized))) {
      ThrowStatus(absl::InvalidArgumentError("could not parse NodeDef"));
    }
    auto node = graph_->AddNode(std::move(def));
    Check(node.status());
    return NodeInfo(**node);
  }
  // Adds the nodes of a serialized GraphDef (any order; all or nothing); returns the names
  // added, in the order they were added.
  std::vector<std::string> Extend(const py::bytes& serialized) {
    auto def = ParseGraphDef(std::string(serialized));
    Check(def.status());
    int before = graph_->num_node_ids();
    Check(graph_->Extend(*def));
    std::vector<std::string> names;
    for (int id = before; id < graph_->num_node_ids(); ++id)
      names.push_back(graph_->node(id)->name());
    return names;
  }
  // Makes input `index` of node `name` read `src` (a tensor name): a loop's back edge.
  void UpdateInput(const std::string& name, int index, const std::string& src) {
    Node* node = graph_->FindNode(name);
    auto id = ParseTensorName(src);
    Check(id.status());
    Node* from = graph_->FindNode(id->node);
    if (node == nullptr || from == nullptr) {
      ThrowStatus(absl::NotFoundError("no node named '" + (node ? id->node : name) + "'"));
    }
    if (index < 0 || index >= node->num_inputs()) {
      ThrowStatus(absl::InvalidArgumentError(absl::StrCat(name, " has no input ", index)));
    }
    Check(graph_->UpdateInput(node, index, from, id->port));
  }
  // Tensor.set_shape: `dims` (None for an unknown rank, -1 for an unknown dim) narrows
  // what later nodes infer from output `port` of node `name`.
  void SetShape(const std::string& name, int port, std::optional<std::vector<int64_t>> dims) {
    Node* node = graph_->FindNode(name);
    if (node == nullptr || port < 0 || port >= node->num_outputs()) {
      ThrowStatus(absl::NotFoundError(absl::StrCat("no tensor ", name, ":", port)));
    }
    if (!dims) return;
    Check(graph_->RefineOutputShape(node, port, PartialShape(*dims)));
  }
  py::tuple Info(const std::string& name) {
    Node* node = graph_->FindNode(name);
    if (node == nullptr) ThrowStatus(absl::NotFoundError("no node named '" + name + "'"));
    return NodeInfo(*node);
  }
  py::bytes ToGraphDef() {
    GraphDef def;
    graph_->ToGraphDef(&def);
    return Serialize(def);
  }
  // d(ys)/d(xs) (tensor names; "" in grad_ys means ones). Returns each x's gradient
  // name ("" for none) and the names of the nodes added.
  std::pair<std::vector<std::string>, std::vector<std::string>> AddGradients(
      const std::vector<std::string>& ys, const std::vector<std::string>& xs,
      const std::vector<std::string>& grad_ys, const std::vector<std::string>& stop,
      const std::string& scope) {
    auto resolve = [&](const std::vector<std::string>& names) {
      std::vector<Output> out;
      for (const std::string& name : names) {
        if (name.empty()) {
          out.push_back({});
          continue;
        }
        auto id = ParseTensorName(name);
        Check(id.status());
        Node* node = graph_->FindNode(id->node);
        if (node == nullptr || id->port < 0 || id->port >= node->num_outputs()) {
          ThrowStatus(absl::NotFoundError("no tensor named '" + name + "'"));
        }
        out.push_back({node, id->port});
      }
      return out;
    };
    const int before = graph_->num_node_ids();
    auto grads = runnel::AddGradients(graph_.get(), resolve(ys), resolve(xs), resolve(grad_ys),
                                      resolve(stop), scope);
    Check(grads.status());
    std::vector<std::string> names, added;
    for (const Output& g : *grads) names.push_back(g.valid() ? g.name() : "");
    for (int id = before; id < graph_->num_node_ids(); ++id)
      added.push_back(graph_->node(id)->name());
    return {names, added};
  }
  int NumNodes() const { return graph_->num_nodes(); }
  const std::shared_ptr<Graph>& graph() const { return graph_; }

 private:
  std::shared_ptr<Graph> graph_;
};

// Session options from a dict of keys or a serialized ConfigProto.
SessionOptions OptionsFrom(const std::map<std::string, std::string>& config) {
  return SessionOptions(config);
}
SessionOptions OptionsFrom(const py::bytes& config) {
  ConfigProto proto;
  if (!proto.ParseFromString(std::string(config))) {
    ThrowStatus(absl::InvalidArgumentError("config is not a valid ConfigProto"));
  }
  auto options = SessionOptions::FromConfigProto(proto);
  Check(options.status());
  return *options;
}

class PySession {
 public:
  // `target`: "" runs in this process; "runnel://host:port" on that server's cluster.
  PySession(const PyGraph& graph, const std::map<std::string, std::string>& config,
            const std::string& target) {
    Open(graph, OptionsFrom(config), target);
  }
  PySession(const PyGraph& graph, const py::bytes& config, const std::string& target) {
    Open(graph, OptionsFrom(config), target);
  }
  std::vector<py::object> Run(const std::vector<std::pair<std::string, py::array>>& feeds,
                              const std::vector<std::string>& fetches,
                              const std::vector<std::string>& targets) {
    return RunWith(feeds, fetches, targets, nullptr, nullptr);
  }
  // `options`: a serialized RunOptions. Returns the fetches and the serialized RunMetadata.
  std::pair<std::vector<py::object>, py::bytes> RunTraced(
      const std::vector<std::pair<std::string, py::array>>& feeds,
      const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
      const py::bytes& options) {
    RunOptions run_options;
    if (!run_options.ParseFromString(std::string(options))) {
      ThrowStatus(absl::InvalidArgumentError("options is not a valid RunOptions"));
    }
    RunMetadata metadata;
    std::vector<py::object> result = RunWith(feeds, fetches, targets, &run_options, &metadata);
    return {result, Serialize(metadata)};
  }
  // (name, device type, memory limit in bytes, incarnation) of each device.
  std::vector<std::tuple<std::string, std::string, int64_t, uint64_t>> ListDevices() const {
    if (!session_) ThrowStatus(absl::FailedPreconditionError("the session is closed"));
    std::vector<std::tuple<std::string, std::string, int64_t, uint64_t>> out;
    for (const auto& d : session_->devices().devices()) {
      out.emplace_back(d->name(), d->device_type(), d->memory_limit(), d->incarnation());
    }
    return out;
  }
  void Close() {
    std::shared_ptr<Session> session = std::move(session_);
    py::gil_scoped_release release;
    if (session) session->Close();
  }

 private:
  // Untraced when `options` is null (a plain run builds no RunMetadata).
  std::vector<py::object> RunWith(const std::vector<std::pair<std::string, py::array>>& feeds,
                                  const std::vector<std::string>& fetches,
                                  const std::vector<std::string>& targets,
                                  const RunOptions* options, RunMetadata* metadata) {
    std::shared_ptr<Session> session = session_;
    if (!session) ThrowStatus(absl::FailedPreconditionError("the session is closed"));
    std::vector<std::pair<std::string, Tensor>> inputs;
    std::vector<std::string> feed_names;
    for (const auto& [name, value] : feeds) {
      inputs.emplace_back(name, FromNumpy(value));
      feed_names.push_back(name);
    }
    // Preparing reads the graph, which Python threads may be extending: do it under the
    // GIL. Running touches only the prepared executors.
    Check(session->PrepareRun(feed_names, fetches, targets));
    std::vector<Tensor> outputs;
    absl::Status status;
    {
      py::gil_scoped_release release;
      status = session->Run(options == nullptr ? RunOptions() : *options, inputs, fetches, targets,
                            &outputs, metadata);
      inputs.clear();
    }
    ReleasePendingArrays();
    Check(status);
    std::vector<py::object> result;
    for (const Tensor& t : outputs) result.push_back(ToNumpy(t));
    return result;
  }
  void Open(const PyGraph& graph, const SessionOptions& options, const std::string& target) {
    if (target.empty()) {
      auto session = DirectSession::Create(graph.graph(), options);
      Check(session.status());
      session_ = *std::move(session);
      return;
    }
    absl::StatusOr<std::unique_ptr<MasterSession>> session;
    {
      py::gil_scoped_release release;  // waits for tasks still starting
      session = MasterSession::Create(graph.graph(), target, options);
    }
    Check(session.status());
    session_ = *std::move(session);
  }
  // Shared with the runs in flight, so closing from another thread never frees it under them.
  std::shared_ptr<Session> session_;
};

// One task of a cluster (distributed/server.h) for tf.train.Server.
class PyServer {
 public:
  // `cluster`: a serialized ClusterDef; `config`: a serialized ConfigProto or b"".
  PyServer(const py::bytes& cluster, const std::string& job, int task, const py::bytes& config) {
    ServerDef def;
    if (!def.cluster.ParseFromString(std::string(cluster))) {
      ThrowStatus(absl::InvalidArgumentError("cluster is not a valid ClusterDef"));
    }
    def.job = job;
    def.task = task;
    if (!std::string(config).empty()) def.options = OptionsFrom(config);
    auto server = Server::Create(std::move(def));
    Check(server.status());
    server_ = *std::move(server);
  }
  void Start() { Check(server_->Start()); }
  void Stop() {
    py::gil_scoped_release release;  // the worker waits for its steps
    server_->Stop();
  }
  void Join() {
    py::gil_scoped_release release;
    server_->Join();
  }
  std::string Target() const { return server_->target(); }
  py::bytes Cluster() const { return Serialize(server_->cluster()); }
  void Close() {
    py::gil_scoped_release release;
    server_.reset();
  }

 private:
  std::unique_ptr<Server> server_;
};

py::bytes SerializedOpList() {
  runnel::OpList list;
  for (const OpRegistration* reg : OpRegistry::Global()->All()) *list.add_op() = reg->op_def;
  return Serialize(list);
}

std::map<std::string, std::vector<std::string>> OpEndpoints() {
  std::map<std::string, std::vector<std::string>> out;
  for (const OpRegistration* reg : OpRegistry::Global()->All()) {
    if (!reg->python_endpoints.empty()) out[reg->op_def.name()] = reg->python_endpoints;
  }
  return out;
}

// The dtypes `op`'s kernels on `device_type` accept for type attr `attr`, by name.
std::vector<std::string> KernelTypes(const std::string& op, const std::string& device_type,
                                     const std::string& attr) {
  std::set<std::string> names;
  for (const KernelDef* def : KernelRegistry::Global()->KernelDefs(op, device_type)) {
    for (const auto& [name, types] : def->type_constraints) {
      if (name != attr) continue;
      for (DataType t : types) names.insert(DataTypeString(t));
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::tuple<std::string, std::string, std::string>> SessionOptionDocs() {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& d : SessionOptions::Documented()) {
    out.emplace_back(d.key, d.default_value, d.description);
  }
  return out;
}

// (input node names, output node names) of a serialized GraphDef, unknown ops and all.
std::pair<std::vector<std::string>, std::vector<std::string>> GraphSignature(
    const py::bytes& serialized) {
  auto graph = ParseGraphDef(std::string(serialized));
  Check(graph.status());
  return {InputNodes(*graph), OutputNodes(*graph)};
}

py::bytes OptimizeFrozen(const py::bytes& serialized, int level) {
  auto graph = ParseGraphDef(std::string(serialized));
  Check(graph.status());
  auto optimized = OptimizeFrozenGraph(level, *std::move(graph));
  Check(optimized.status());
  return Serialize(*optimized);
}

}  // namespace
}  // namespace runnel

PYBIND11_MODULE(_runnel, m) {
  using namespace runnel;
  m.doc() = "Runnel's C++ core";
  py::class_<PyGraph>(m, "Graph")
      .def(py::init<>())
      .def("add_node", &PyGraph::AddNode)
      .def("extend", &PyGraph::Extend)
      .def("node_info", &PyGraph::Info)
      .def("set_shape", &PyGraph::SetShape)
      .def("update_input", &PyGraph::UpdateInput)
      .def("add_gradients", &PyGraph::AddGradients)
      .def("to_graph_def", &PyGraph::ToGraphDef)
      .def("num_nodes", &PyGraph::NumNodes);
  py::class_<PySession>(m, "Session")
      .def(
          py::init<const PyGraph&, const std::map<std::string, std::string>&, const std::string&>(),
          py::arg("graph"), py::arg("config"), py::arg("target") = "")
      .def(py::init<const PyGraph&, const py::bytes&, const std::string&>(), py::arg("graph"),
           py::arg("config"), py::arg("target") = "")
      .def("run", &PySession::Run)
      .def("run_traced", &PySession::RunTraced)
      .def("list_devices", &PySession::ListDevices)
      .def("close", &PySession::Close);
  py::class_<PyServer>(m, "Server")
      .def(py::init<const py::bytes&, const std::string&, int, const py::bytes&>())
      .def("start", &PyServer::Start)
      .def("stop", &PyServer::Stop)
      .def("join", &PyServer::Join)
      .def("target", &PyServer::Target)
      .def("cluster", &PyServer::Cluster)
      .def("close", &PyServer::Close);
  m.def("op_list", &SerializedOpList, "The op registry as a serialized OpList.");
  m.def("op_endpoints", &OpEndpoints, "{op: its public Python names} from the op registry.");
  m.def("kernel_types", &KernelTypes, py::arg("op"), py::arg("device_type") = "CPU",
        py::arg("attr") = "T", "The dtype names a type attr takes in the op's kernels.");
  m.def("session_option_docs", &SessionOptionDocs);
  m.def("built_with_cuda", &BuiltWithCuda, "Whether this build has the GPU device.");
  m.def("graph_signature", &GraphSignature,
        "(inputs, outputs) of a serialized GraphDef, as the C++ inference API sees them.");
  m.def("optimize_frozen_graph", &OptimizeFrozen, "A serialized frozen graph, optimized.");
  m.def("estimate_flops", &EstimateFlops, "Floating-point operations of one run of an op.");
  m.def(
      "chrome_trace",
      [](const py::bytes& step_stats) {
        StepStats stats;
        if (!stats.ParseFromString(std::string(step_stats))) {
          ThrowStatus(absl::InvalidArgumentError("could not parse StepStats"));
        }
        return ChromeTrace(stats);
      },
      "A serialized StepStats in Chrome's trace event format (JSON).");
  m.def(
      "masked_crc32c",
      [](const py::bytes& data) {
        std::string_view bytes = data;
        return MaskCrc32c(Crc32c(absl::string_view(bytes.data(), bytes.size())));
      },
      "TensorFlow's masked CRC-32C of `data`, as TFRecord files frame records.");
}
