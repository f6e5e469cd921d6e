// app MODEL INPUT_NAME INPUT.f32 ROWS COLS OUTPUT.f32: feeds a raw float32 [ROWS, COLS]
// matrix, writes the model's first output as raw float32, prints its shape.
#include <runnel/inference.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: app MODEL INPUT_NAME INPUT.f32 ROWS COLS OUTPUT.f32\n";
    return 2;
  }
  auto model = runnel::Model::Load(argv[1]);
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return 1;
  }
  const int64_t rows = std::atoll(argv[4]), cols = std::atoll(argv[5]);
  runnel::HostTensor x(runnel::ElementType::kFloat, {rows, cols});
  std::ifstream in(argv[3], std::ios::binary);
  in.read(static_cast<char*>(x.raw_data()), static_cast<std::streamsize>(x.num_bytes()));
  auto outputs = (*model)->Run({{argv[2], x}});
  if (!outputs.ok()) {
    std::cerr << outputs.status() << "\n";
    return 1;
  }
  const runnel::HostTensor& y = (*outputs)[0];
  std::ofstream out(argv[6], std::ios::binary);
  out.write(static_cast<const char*>(y.raw_data()), static_cast<std::streamsize>(y.num_bytes()));
  std::cout << (*model)->outputs()[0].name << " " << y.shape()[0] << "x" << y.shape()[1] << "\n";
  return 0;
}
